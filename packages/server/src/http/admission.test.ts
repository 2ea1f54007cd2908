/**
 * The admission gate over real sockets: a refused client keeps its connection for its retry unless its body is
 * large or unannounced, or it comes back before Retry-After has passed.
 */
import { connect, type Socket } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdmissionGate, KEEP_ALIVE_REFUSED_BODY_BYTES } from './admission.ts';

let app: FastifyInstance;
let port: number;
const gate = new AdmissionGate({ maxInFlight: 1, maxInFlightBytes: 1024 * 1024 });
let release: () => void = () => {};
const held = new Promise<void>((resolve) => {
  release = resolve;
});

beforeAll(async () => {
  app = Fastify();
  app.post('/work', { preParsing: gate.hook }, async () => {
    await held;
    return { ok: true };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  port = typeof address === 'object' && address !== null ? address.port : 0;
});

afterAll(async () => {
  release();
  await app.close();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `request` and resolves with the first complete response head and body text. */
function exchange(socket: Socket, request: string): Promise<string> {
  return new Promise((resolve) => {
    let received = '';
    const onData = (chunk: Buffer) => {
      received += chunk.toString();
      const head = received.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(received);
      if (head >= 0 && length !== null && received.length >= head + 4 + Number(length[1])) {
        socket.off('data', onData);
        resolve(received);
      }
    };
    socket.on('data', onData);
    socket.write(request);
  });
}

/** Sends a request that the gate admits and the route holds, and waits until it is in flight. */
async function takeTheSlot(holder: Socket): Promise<void> {
  holder.write(post('{"n":0}'));
  while (gate.inFlight < 1) await new Promise((resolve) => setTimeout(resolve, 5));
}

const post = (body: string, length = Buffer.byteLength(body)) =>
  `POST /work HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${body}`;

describe('AdmissionGate', () => {
  it('keeps a refused connection open for one retry, and closes it when the client comes back too soon', async () => {
    const holder = await open();
    await takeTheSlot(holder);

    const client = await open();
    const first = await exchange(client, post('{"n":1}'));
    expect(first).toMatch(/^HTTP\/1\.1 429/);
    expect(first.toLowerCase()).toContain('retry-after: 1');
    expect(first.toLowerCase()).not.toContain('connection: close');

    // The same connection, before Retry-After has passed: refused and closed.
    const second = await exchange(client, post('{"n":2}'));
    expect(second).toMatch(/^HTTP\/1\.1 429/);
    expect(second.toLowerCase()).toContain('connection: close');
    client.destroy();
    holder.destroy();
  });

  it('closes the connection of a refused request whose body is large or unannounced, without reading it', async () => {
    const holder = await open();
    await takeTheSlot(holder);

    const large = await open();
    const answer = await exchange(large, post('{"n":', KEEP_ALIVE_REFUSED_BODY_BYTES + 1));
    expect(answer).toMatch(/^HTTP\/1\.1 429/);
    expect(answer.toLowerCase()).toContain('connection: close');
    large.destroy();

    const chunked = await open();
    const chunkedAnswer = await exchange(
      chunked,
      'POST /work HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"n":\r\n',
    );
    expect(chunkedAnswer).toMatch(/^HTTP\/1\.1 429/);
    expect(chunkedAnswer.toLowerCase()).toContain('connection: close');
    chunked.destroy();
    holder.destroy();
  });
});
