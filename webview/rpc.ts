// Typed request/response client over the webview's postMessage channel (src/shared/protocol.ts).
// The transport is injected so the client runs in plain Node tests with a fake channel.
import type {
  HostToWebviewMessage,
  NotificationMethod,
  Notifications,
  RequestMessage,
  RequestMethod,
  Requests,
} from '../src/shared/protocol';

/** How the client talks to the host: `post` sends, `listen` registers for incoming messages and returns an unsubscribe. */
export interface RpcTransport {
  post(message: RequestMessage): void;
  listen(onMessage: (data: unknown) => void): () => void;
}

/** The host answered with an error reply (or the request could not be delivered). */
export class RpcError extends Error {
  constructor(
    readonly method: RequestMethod,
    message: string,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}

type NotificationHandler<M extends NotificationMethod> = (params: Notifications[M]) => void;

interface Pending {
  method: RequestMethod;
  resolve(result: unknown): void;
  reject(error: Error): void;
}

function isHostMessage(data: unknown): data is HostToWebviewMessage {
  if (typeof data !== 'object' || data === null) return false;
  const kind = (data as { kind?: unknown }).kind;
  return kind === 'response' || kind === 'notification';
}

export class RpcClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  // Handlers are stored untyped per method; `on` is the only writer and keeps the pairing right.
  private readonly handlers = new Map<NotificationMethod, Set<(params: unknown) => void>>();
  private readonly unlisten: () => void;

  constructor(private readonly transport: RpcTransport) {
    this.unlisten = transport.listen((data) => this.receive(data));
  }

  /** Sends a request; resolves with its result, rejects with RpcError on an error reply. */
  request<M extends RequestMethod>(method: M, params: Requests[M]['params']): Promise<Requests[M]['result']> {
    const id = this.nextId++;
    const answer = this.answerTo(id, method);
    try {
      this.transport.post({ kind: 'request', id, method, params } as RequestMessage);
    } catch (error) {
      this.pending.get(id)?.reject(new RpcError(method, `Could not send ${method} to the extension: ${error instanceof Error ? error.message : String(error)}`));
      this.pending.delete(id);
    }
    return answer;
  }

  /**
   * The answer to a request sent before this client existed (the page's first script sends app/ready
   * with an id below the first this client gives out).
   */
  answerTo<M extends RequestMethod>(id: number, method: M): Promise<Requests[M]['result']> {
    if (id >= this.nextId) throw new Error(`Request id ${id} is this client's to give, not one sent before it.`);
    if (this.pending.has(id)) throw new Error(`Request id ${id} is already awaited.`);
    return new Promise<Requests[M]['result']>((resolve, reject) => {
      this.pending.set(id, { method, resolve: resolve as (result: unknown) => void, reject });
    });
  }

  /** Subscribes to one notification; returns an unsubscribe function. */
  on<M extends NotificationMethod>(method: M, handler: NotificationHandler<M>): () => void {
    let set = this.handlers.get(method);
    if (!set) {
      set = new Set();
      this.handlers.set(method, set);
    }
    const untyped = handler as (params: unknown) => void;
    set.add(untyped);
    return () => set.delete(untyped);
  }

  /** Requests still waiting for an answer (for diagnostics and tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Stops listening and rejects everything still pending, so no caller waits forever. */
  dispose(): void {
    this.unlisten();
    for (const [id, pending] of this.pending) {
      pending.reject(new RpcError(pending.method, `${pending.method} was abandoned: the panel is closing.`));
      this.pending.delete(id);
    }
  }

  private receive(data: unknown): void {
    // Other senders (VS Code itself, extensions of the page) may post too: ignore what is not ours.
    if (!isHostMessage(data)) return;
    if (data.kind === 'response') {
      const pending = this.pending.get(data.id);
      if (!pending) return;
      this.pending.delete(data.id);
      if (data.ok) pending.resolve(data.result);
      else pending.reject(new RpcError(pending.method, data.error?.message || `${pending.method} failed.`));
      return;
    }
    const handlers = this.handlers.get(data.method);
    if (!handlers) return;
    for (const handler of [...handlers]) {
      // One failing subscriber must not starve the others of the notification.
      try {
        handler(data.params);
      } catch (error) {
        console.error(`Software Maker: handler for ${data.method} failed`, error);
      }
    }
  }
}
