import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ServerSentEvent, SseParser } from './sse.ts';

function parseAll(chunks: string[]): { events: ServerSentEvent[]; comments: string[] } {
  const events: ServerSentEvent[] = [];
  const comments: string[] = [];
  const parser = new SseParser(
    (e) => events.push(e),
    (c) => comments.push(c),
  );
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments };
}

const STREAM =
  ': ping\n\nevent: config\ndata: {"environment":"production","version":43}\n\n' +
  'data: line one\r\ndata: line two\r\nid: 7\r\nretry: 1500\r\n\r\n' +
  'event: config\rdata:{"version":44}\r\r' +
  'event: ignored-without-data\n\n';

describe('SseParser', () => {
  it('parses events, multi-line data, ids, retry and comments with every line ending', () => {
    const { events, comments } = parseAll([STREAM]);
    expect(comments).toEqual(['ping']);
    expect(events).toEqual([
      { event: 'config', data: '{"environment":"production","version":43}' },
      { event: 'message', data: 'line one\nline two', id: '7', retry: 1500 },
      { event: 'config', data: '{"version":44}', id: '7', retry: 1500 },
    ]);
  });

  it('gives the same events however the stream is split into chunks', () => {
    const whole = parseAll([STREAM]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: STREAM.length }), { maxLength: 12 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks: string[] = [];
        let start = 0;
        for (const point of points) {
          chunks.push(STREAM.slice(start, point));
          start = point;
        }
        chunks.push(STREAM.slice(start));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it('does not dispatch an event until its blank line arrives', () => {
    const { events } = parseAll(['event: config\ndata: {"version":1}\n']);
    expect(events).toEqual([]);
  });
});
