/**
 * Micro-benchmark of the remoting work one SEND_MESSAGE_V2 round trip costs, on one thread and
 * without sockets, so a change to the codec can be judged in ns/op even on a busy machine:
 *
 *   node dist/bench/micro/send-codec.js [iterations]
 *
 * Prints one line per step (client request encode, broker request decode, broker response
 * encode, client response decode) and a JSON summary line.
 */
import { encodeProperties, MessageConst } from '../../common/message/properties';
import { RequestCode, ResponseCode } from '../../common/protocol/codes';
import {
  createRequest,
  createResponse,
  decodeCommand,
  encodeCommand,
  type RemotingCommand,
} from '../../common/protocol/command';
import { FrameDecoder } from '../../common/protocol/frame';
import { SendMessageRequestHeader, SendMessageResponseHeader } from '../../common/protocol/headers';

const iterations = Number(process.argv[2] ?? 200_000);
const body = Buffer.alloc(1024, 0x61);
const properties = encodeProperties(
  new Map([
    [MessageConst.UNIQ_KEY, '7F00000126B418B4AAC2A3C9A5F00000'],
    [MessageConst.WAIT, 'true'],
  ]),
);

function requestHeader(now: number) {
  return SendMessageRequestHeader.encode(
    {
      producerGroup: 'BenchProducerGroup',
      topic: 'BenchTopic_1234_1700000000000',
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: 4,
      queueId: now & 7,
      sysFlag: 0,
      bornTimestamp: now,
      flag: 0,
      properties,
      reconsumeTimes: 0,
      unitMode: false,
      batch: false,
      bname: 'bench-broker',
    },
    true,
  );
}

function frameOf(parts: Buffer[], decoder: FrameDecoder): RemotingCommand {
  let command: RemotingCommand | undefined;
  for (const part of parts) {
    for (const frame of decoder.push(part)) command = decodeCommand(frame);
  }
  if (command === undefined) throw new Error('no frame decoded');
  return command;
}

interface Step {
  name: string;
  run(i: number): void;
}

const now = Date.now();
const decoder = new FrameDecoder();
let requestWire: Buffer[] = [];
let request: RemotingCommand | undefined;
let responseWire: Buffer[] = [];

const steps: Step[] = [
  {
    name: 'client: encode request',
    run(i) {
      const cmd = createRequest(RequestCode.SEND_MESSAGE_V2, requestHeader(now + i), body);
      requestWire = encodeCommand({ ...cmd, opaque: i + 1 });
    },
  },
  {
    name: 'broker: decode request',
    run() {
      request = frameOf(requestWire, decoder);
      SendMessageRequestHeader.decode(request.extFields, true);
    },
  },
  {
    name: 'broker: encode response',
    run(i) {
      const reply = createResponse(request!, ResponseCode.SUCCESS, {
        extFields: SendMessageResponseHeader.encode({
          msgId: '7F00000100002A9F00000000000A1B2C',
          queueId: i & 7,
          queueOffset: i,
          MSG_REGION: 'DefaultRegion',
          TRACE_ON: 'true',
        }),
      });
      responseWire = encodeCommand(reply);
    },
  },
  {
    name: 'client: decode response',
    run() {
      SendMessageResponseHeader.decode(frameOf(responseWire, decoder).extFields);
    },
  },
];

const totals = new Map<string, number>(steps.map((s) => [s.name, 0]));
// The first pass warms the JIT and is not counted.
for (const counted of [false, true]) {
  for (let i = 0; i < iterations; i++) {
    for (const step of steps) {
      const started = process.hrtime.bigint();
      step.run(i);
      if (counted) {
        totals.set(step.name, totals.get(step.name)! + Number(process.hrtime.bigint() - started));
      }
    }
  }
}

const summary: Record<string, number> = {};
let all = 0;
for (const [name, ns] of totals) {
  const perOp = ns / iterations;
  summary[name] = Math.round(perOp);
  all += perOp;
  console.log(`${name.padEnd(26)} ${perOp.toFixed(0).padStart(6)} ns/op`);
}
console.log(`${'round trip'.padEnd(26)} ${all.toFixed(0).padStart(6)} ns/op`);
console.log(JSON.stringify({ bench: 'send-codec', iterations, nsPerOp: summary }));
