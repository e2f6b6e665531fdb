import { parseLenientJson } from '../../common/json';

describe('parseLenientJson on fastjson text', () => {
  it('quotes unquoted numeric keys of any sign, fraction or spacing, and nothing else', () => {
    expect(
      parseLenientJson(
        '{"a":{0:1, -2 :"x",3.5:"{4:5}"},"b":[1,2,{7\t:8}],"c":"q\\"9:1","d":{ 10:[11,12]}}',
      ),
    ).toEqual({
      a: { '0': 1, '-2': 'x', '3.5': '{4:5}' },
      b: [1, 2, { '7': 8 }],
      c: 'q"9:1',
      d: { '10': [11, 12] },
    });
  });

  it('parses a large offset table with unquoted keys into the same object as quoted ones', () => {
    const entries = Array.from({ length: 50_000 }, (_, i) => [String(i), i * 7] as const);
    const fastjson = `{"offsetTable":{"T@g":{${entries.map(([k, v]) => `${k}:${v}`).join(',')}}}}`;
    expect(parseLenientJson(fastjson)).toEqual({
      offsetTable: { 'T@g': Object.fromEntries(entries) },
    });
  });

  it('still refuses text that is not JSON in either form', () => {
    expect(() => parseLenientJson('{0:1,')).toThrow(SyntaxError);
    expect(() => parseLenientJson(`{${'ab,'.repeat(100_000)}`)).toThrow(SyntaxError);
  });
});
