import { EventEmitter } from 'node:events';

/**
 * EventEmitter with a compile-time map of event name -> payload, so a listener cannot
 * subscribe to an event that does not exist or receive the wrong payload.
 */
export class TypedEmitter<Events extends object> {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Many UI faces and tests may listen at once; this is not a leak.
    this.emitter.setMaxListeners(100);
  }

  on<E extends keyof Events & string>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  once<E extends keyof Events & string>(event: E, listener: (payload: Events[E]) => void): () => void {
    this.emitter.once(event, listener);
    return () => this.emitter.off(event, listener);
  }

  /** Every event, in order; used by faces that forward everything (IPC, WebSocket, tests). */
  onAny(listener: <E extends keyof Events & string>(event: E, payload: Events[E]) => void): () => void {
    const forward = (event: string, payload: unknown) => listener(event as keyof Events & string, payload as never);
    this.emitter.on(ANY, forward);
    return () => this.emitter.off(ANY, forward);
  }

  emit<E extends keyof Events & string>(event: E, payload: Events[E]): void {
    this.emitter.emit(event, payload);
    this.emitter.emit(ANY, event, payload);
  }

  removeAllListeners(): void {
    this.emitter.removeAllListeners();
  }
}

const ANY = Symbol('any-event');
