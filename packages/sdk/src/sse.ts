/**
 * A server-sent-events parser over a fetch response body, so the stream request can carry an
 * `Authorization` header (which the browser EventSource API cannot send).
 */

/** One dispatched server-sent event. `event` defaults to `message` as in the HTML specification. */
export interface ServerSentEvent {
  event: string;
  data: string;
  id?: string;
  /** Reconnection delay the server asked for, in milliseconds. */
  retry?: number;
}

const LINE_FEED = 10;
const CARRIAGE_RETURN = 13;

/**
 * Incremental parser: feed it decoded text chunks in order; it calls `onEvent` for every complete event
 * and `onComment` for comment lines (heartbeats). Handles `\n`, `\r\n` and `\r` line endings split
 * anywhere across chunks.
 */
export class SseParser {
  private buffer = '';
  private skipLeadingLineFeed = false;
  private eventType = '';
  private dataLines: string[] = [];
  private lastEventId: string | undefined;
  private retry: number | undefined;

  constructor(
    private readonly onEvent: (event: ServerSentEvent) => void,
    private readonly onComment: (text: string) => void = () => {},
  ) {}

  /** Parses one chunk of decoded text. */
  push(chunk: string): void {
    let text = chunk;
    if (this.skipLeadingLineFeed && text.length > 0) {
      if (text.charCodeAt(0) === LINE_FEED) text = text.slice(1);
      this.skipLeadingLineFeed = false;
    }
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const code = this.buffer.charCodeAt(i);
      if (code !== LINE_FEED && code !== CARRIAGE_RETURN) continue;
      this.processLine(this.buffer.slice(start, i));
      if (code === CARRIAGE_RETURN) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === LINE_FEED) i++;
        } else {
          this.skipLeadingLineFeed = true;
        }
      }
      start = i + 1;
    }
    this.buffer = this.buffer.slice(start);
  }

  private processLine(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' */) {
      this.onComment(line.slice(1).trimStart());
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(): void {
    if (this.dataLines.length === 0) {
      this.eventType = '';
      return;
    }
    const event: ServerSentEvent = { event: this.eventType || 'message', data: this.dataLines.join('\n') };
    if (this.lastEventId !== undefined) event.id = this.lastEventId;
    if (this.retry !== undefined) event.retry = this.retry;
    this.eventType = '';
    this.dataLines = [];
    this.onEvent(event);
  }
}

/**
 * Reads a response body to its end, feeding the parser; resolves when the server closes the stream and
 * rejects on a network error or abort. `onActivity` is called on every chunk (used for idle timeouts).
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  parser: SseParser,
  onActivity: () => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onActivity();
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
  } finally {
    reader.releaseLock();
  }
}
