/** A tiny typed event emitter whose listeners can never throw into the emitter. */
import type { ClientEventName, ClientEvents, ClientListener, Logger } from './types.ts';

export class ClientEmitter {
  private readonly listeners = new Map<ClientEventName, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Adds a listener; returns a function that removes it. */
  on<E extends ClientEventName>(event: E, listener: ClientListener<E>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as (payload: never) => void);
    return () => {
      set.delete(listener as (payload: never) => void);
    };
  }

  emit<E extends ClientEventName>(event: E, payload: ClientEvents[E]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as ClientListener<E>)(payload);
      } catch (error) {
        this.logger.error('a client event listener threw', { event, error: String(error) });
      }
    }
  }
}
