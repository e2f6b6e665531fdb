import { deflateSync } from 'node:zlib';
import { crc32 } from '../../common/message/crc32';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import { DEFAULT_MAX_FRAME_SIZE } from '../../common/protocol/frame';
import { binaryHeader, jsonFrame, rawFrame } from '../helpers/frames';
import type { Prng } from '../helpers/prng';

/**
 * Frames for fuzzing a name server, in three kinds whose outcome the test knows or does not:
 * - answered: a well-framed request the server must answer, and the response code it must use;
 * - rejected: a frame the server must refuse by closing the connection (and counting it);
 * - mutated: an answered or rejected frame damaged at random (flipped bytes, wrong or
 *   truncated lengths, spliced garbage) or plain random bytes, whose outcome is not predicted.
 *
 * Frames name only random brokers, clusters and KV keys, and the test's registered topic only
 * in route queries, so no frame (nor any likely mutation of one) can change what a test set up.
 */

export interface AnsweredFrame {
  bytes: Buffer;
  opaque: number;
  expectedCode: number;
  /** The server answers it because a header field is missing or mistyped (counted as such). */
  headerError: boolean;
}

interface Request {
  code: number;
  ext: Record<string, string | number | boolean>;
  body?: Buffer;
  expectedCode: number;
  headerError: boolean;
}

const LANGUAGES = ['JAVA', 'CPP', 'GO', 'NODE_JS', 'PYTHON', 'RUST', 'OTHER'];
const BINARY_LANGUAGE_BYTES = [0, 1, 2, 3, 9, 10, 12];

/** Values that no int or long header field accepts, in the forms JSON clients send them. */
const NOT_A_NUMBER: readonly (string | number | boolean)[] = [
  'abc',
  '1.5',
  1.5,
  '1e3',
  true,
  '0x10',
  '9223372036854775808',
  1e20,
  ' ',
  '--1',
];

export class NamesrvFuzzFrames {
  constructor(
    private readonly rng: Prng,
    private readonly knownTopic: string,
  ) {}

  private name(prefix: string): string {
    return `${prefix}-${this.rng.int(0, 1e9).toString(36)}`;
  }

  private brokerIdentity(): Record<string, string> {
    return {
      brokerName: this.name('fz-broker'),
      brokerAddr: `127.0.0.${this.rng.int(2, 250)}:${this.rng.int(1, 65535)}`,
      clusterName: this.name('fz-cluster'),
    };
  }

  /** A request and the code the name server must answer it with. */
  private request(): Request {
    const rng = this.rng;
    const notANumber = () => rng.pick(NOT_A_NUMBER);
    const headerFault = (code: number, ext: Request['ext']): Request => ({
      code,
      ext,
      expectedCode: ResponseCode.SYSTEM_ERROR,
      headerError: true,
    });
    const answer = (code: number, ext: Request['ext'], expectedCode: number): Request => ({
      code,
      ext,
      expectedCode,
      headerError: false,
    });
    switch (rng.int(0, 13)) {
      case 0:
        // Codes nobody serves, including ones outside the 16-bit range Java uses.
        return answer(
          rng.bool(0.8) ? rng.int(1000, 30000) : rng.int(40000, 0x7fffffff),
          { [this.name('k')]: this.name('v') },
          ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
        );
      case 1:
        return answer(
          RequestCode.GET_ROUTEINFO_BY_TOPIC,
          { topic: this.name('fz-topic') },
          ResponseCode.TOPIC_NOT_EXIST,
        );
      case 2:
        return answer(
          RequestCode.GET_ROUTEINFO_BY_TOPIC,
          { topic: this.knownTopic },
          ResponseCode.SUCCESS,
        );
      case 3:
        return headerFault(
          rng.pick([
            RequestCode.GET_ROUTEINFO_BY_TOPIC,
            RequestCode.GET_TOPICS_BY_CLUSTER,
            RequestCode.WIPE_WRITE_PERM_OF_BROKER,
            RequestCode.DELETE_TOPIC_IN_NAMESRV,
            RequestCode.GET_KV_CONFIG,
            RequestCode.PUT_KV_CONFIG,
          ]),
          { [this.name('unrelated')]: this.name('v') },
        );
      case 4:
        return headerFault(RequestCode.REGISTER_BROKER, {
          ...this.brokerIdentity(),
          haServerAddr: '127.0.0.1:10912',
          brokerId: notANumber(),
        });
      case 5:
        return headerFault(RequestCode.REGISTER_BROKER, {
          ...this.brokerIdentity(),
          haServerAddr: '127.0.0.1:10912',
          brokerId: 0,
          bodyCrc32: notANumber(),
        });
      case 6:
        return headerFault(
          rng.pick([RequestCode.UNREGISTER_BROKER, RequestCode.QUERY_DATA_VERSION]),
          {
            ...this.brokerIdentity(),
            brokerId: rng.bool() ? notANumber() : '',
          },
        );
      case 7:
        // A body that is never a JSON object: a JSON array start, then random bytes.
        return this.registerWith(Buffer.concat([Buffer.from('['), rng.bytes(rng.int(0, 64))]));
      case 8: {
        const body = Buffer.from(JSON.stringify({ topicConfigSerializeWrapper: {} }));
        const wrong = (crc32(body) + rng.int(1, 1000)) | 0 || 1;
        return this.registerWith(body, { bodyCrc32: wrong });
      }
      case 9:
        return answer(
          RequestCode.GET_KV_CONFIG,
          { namespace: this.name('fz-ns'), key: this.name('fz-key') },
          ResponseCode.QUERY_NOT_FOUND,
        );
      case 10:
        return answer(
          RequestCode.GET_KVLIST_BY_NAMESPACE,
          { namespace: this.name('fz-ns') },
          ResponseCode.QUERY_NOT_FOUND,
        );
      case 11:
        // compressed=true with a body that is not zlib (first byte 0: no such method), or
        // zlib that inflates to random bytes, which are never a valid registration
        return this.registerWith(
          rng.bool()
            ? Buffer.concat([Buffer.from([0]), rng.bytes(rng.int(0, 64))])
            : deflateSync(rng.bytes(rng.int(0, 256))),
          { compressed: true },
        );
      case 12:
        // Now and then a large body, to an unknown code: read in full, answered, forgotten.
        if (rng.bool(0.05)) {
          return {
            ...answer(rng.int(1000, 30000), {}, ResponseCode.REQUEST_CODE_NOT_SUPPORTED),
            body: Buffer.alloc(rng.int(64 * 1024, 256 * 1024), rng.bytes(16)),
          };
        }
        return answer(RequestCode.GET_BROKER_CLUSTER_INFO, {}, ResponseCode.SUCCESS);
      default:
        return answer(RequestCode.GET_BROKER_CLUSTER_INFO, {}, ResponseCode.SUCCESS);
    }
  }

  private registerWith(body: Buffer, extra: Request['ext'] = {}): Request {
    return {
      code: RequestCode.REGISTER_BROKER,
      ext: {
        ...this.brokerIdentity(),
        haServerAddr: '127.0.0.1:10912',
        brokerId: 0,
        ...extra,
      },
      body,
      expectedCode: ResponseCode.SYSTEM_ERROR,
      headerError: false,
    };
  }

  /** A well-framed request (JSON or binary header) with the response it must get. */
  answered(opaque: number): AnsweredFrame {
    const rng = this.rng;
    const req = this.request();
    // The binary header carries a 16-bit code; codes beyond it only travel in JSON.
    const binary = req.code <= 0x7fff && rng.bool(0.3);
    let bytes: Buffer;
    if (binary) {
      const ext: [string, string][] = Object.entries(req.ext).map(([k, v]) => [k, String(v)]);
      bytes = rawFrame(
        1,
        binaryHeader({
          code: req.code,
          language: rng.pick(BINARY_LANGUAGE_BYTES),
          version: rng.int(0, 500),
          opaque,
          flag: 0,
          remark: rng.bool(0.2) ? this.name('remark') : undefined,
          ext,
        }),
        req.body,
      );
    } else {
      const header: Record<string, unknown> = {
        code: req.code,
        language: rng.pick(LANGUAGES),
        version: rng.int(0, 500),
        opaque,
        flag: 0,
        extFields: req.ext,
        serializeTypeCurrentRPC: 'JSON',
      };
      if (rng.bool(0.2)) header.remark = rng.bool() ? null : this.name('remark');
      bytes = jsonFrame(header, req.body);
    }
    return { bytes, opaque, expectedCode: req.expectedCode, headerError: req.headerError };
  }

  /** A frame the server must refuse by closing the connection. */
  rejected(): Buffer {
    const rng = this.rng;
    const prefix = (totalLength: number, word: number) => {
      const b = Buffer.alloc(8);
      b.writeInt32BE(totalLength, 0);
      b.writeUInt32BE(word >>> 0, 4);
      return b;
    };
    const validJsonHeader = () =>
      JSON.stringify({ code: RequestCode.GET_BROKER_CLUSTER_INFO, opaque: 1, flag: 0 });
    switch (rng.int(0, 10)) {
      case 0: // negative length
        return prefix(rng.int(-0x80000000, -1), 0);
      case 1: // shorter than the header word
        return prefix(rng.int(0, 3), 0).subarray(0, 4);
      case 2: // over the frame limit, up to the largest int32
        return prefix(rng.int(DEFAULT_MAX_FRAME_SIZE - 3, 0x7fffffff), 0);
      case 3: {
        // unknown serialize type
        const headerLength = rng.int(0, 32);
        return Buffer.concat([
          prefix(4 + headerLength, (rng.int(2, 255) << 24) | headerLength),
          rng.bytes(headerLength),
        ]);
      }
      case 4: {
        // header length beyond the frame
        const totalLength = rng.int(4, 64);
        return prefix(totalLength, (rng.int(0, 1) << 24) | rng.int(totalLength - 3, 0xffffff));
      }
      case 5: {
        // a JSON header cut short, or bytes that are not even UTF-8
        const text = validJsonHeader();
        return rng.bool()
          ? jsonFrame(text.slice(0, rng.int(0, text.length - 1)))
          : rawFrame(0, Buffer.concat([Buffer.from([0xff]), rng.bytes(rng.int(0, 40))]));
      }
      case 6: // JSON that is not an object
        return jsonFrame(rng.pick(['[1,2]', '"GET_ROUTEINFO"', '105', 'null', 'true', '[]']));
      case 7: {
        // code, opaque or flag of the wrong type or missing
        const header: Record<string, unknown> = { code: 105, opaque: 7, flag: 0 };
        const field = rng.pick(['code', 'opaque', 'flag']);
        header[field] = rng.pick(['105', 1.5, true, null, [], {}, 2 ** 40, 'x']);
        if (field !== 'flag' && rng.bool(0.3)) delete header[field];
        // null and a missing flag mean 0; make sure it is wrong
        if (field === 'flag' && (header.flag === null || header.flag === undefined)) {
          header.flag = 'x';
        }
        return jsonFrame(header);
      }
      case 8: // extFields not an object, or holding an object
        return jsonFrame({
          code: 105,
          opaque: 8,
          flag: 0,
          extFields: rng.bool() ? rng.pick([[1], 'topic', 5]) : { topic: { nested: 1 } },
        });
      case 9: {
        // binary header shorter than its fixed part
        return rawFrame(1, rng.bytes(rng.int(0, 20)));
      }
      default: {
        // binary header whose remark or extFields lengths point outside it
        const spec = {
          code: 105,
          language: 0,
          version: 317,
          opaque: 9,
          flag: 0,
          remark: 'r',
          ext: [['topic', 'T']] as [string, string][],
        };
        const which = rng.int(0, 2);
        if (which === 0) {
          return rawFrame(
            1,
            binaryHeader({ ...spec, remarkLength: rng.pick([-1, 1000, 0x7fffffff]) }),
          );
        }
        if (which === 1) {
          return rawFrame(
            1,
            binaryHeader({ ...spec, extLength: rng.pick([-5, 13, 100, 0x7fffffff]) }),
          );
        }
        // an ext key length larger than the extFields block
        const header = binaryHeader(spec);
        header.writeInt16BE(rng.int(100, 0x7fff), header.length - 12);
        return rawFrame(1, header);
      }
    }
  }

  /** A damaged frame or random bytes; the server may answer, wait for more, or close. */
  mutated(): Buffer {
    const rng = this.rng;
    const base = rng.bool(0.7) ? this.answered(rng.int32()).bytes : this.rejected();
    const out = Buffer.from(base);
    switch (rng.int(0, 6)) {
      case 0: {
        for (let i = rng.int(1, 4); i > 0; i--) out[rng.int(0, out.length - 1)] ^= rng.int(1, 255);
        return out;
      }
      case 1: // wrong total length, near or far from the real one
        if (out.length >= 4) {
          out.writeInt32BE(rng.bool() ? out.readInt32BE(0) + rng.int(-8, 8) : rng.int32(), 0);
        }
        return out;
      case 2: // wrong header length
        if (out.length >= 8) out.writeUInt32BE((out.readUInt32BE(4) ^ rng.int(1, 0xffff)) >>> 0, 4);
        return out;
      case 3: // truncated
        return out.subarray(0, rng.int(0, Math.max(0, out.length - 1)));
      case 4: // garbage after the frame
        return Buffer.concat([out, rng.bytes(rng.int(1, 32))]);
      case 5: {
        // a random framed blob: plausible prefix, random header and body
        const header = rng.bytes(rng.int(0, 64));
        const body = rng.bytes(rng.int(0, 32));
        return rawFrame(rng.int(0, 1), header, body);
      }
      default:
        return rng.bytes(rng.int(1, 128));
    }
  }
}
