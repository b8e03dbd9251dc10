/** Anything a test starts that must be shut when the file is done. */
export interface Closable {
  close(): Promise<void>;
}

/** The peers one test file starts, closed together in its afterAll. */
export class PeerSet {
  private readonly open: Closable[] = [];

  /** Awaits a peer's start and remembers it for closeAll(). */
  async start<P extends Closable>(starting: Promise<P> | P): Promise<P> {
    const started = await starting;
    this.open.push(started);
    return started;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((peer) => peer.close()));
  }
}
