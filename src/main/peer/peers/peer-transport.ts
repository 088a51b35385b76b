import type { PeerId } from '../../../shared/model';
import type { ByteReader } from '../protocol/codec';
import type { Request, Response } from '../protocol/messages';

/** A peer's address plus the certificate fingerprint we pin it to. */
export interface PeerTarget {
  host: string;
  port: number;
  peerId: PeerId;
}

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Called with the reader positioned at the raw bytes that follow a ChunkHeader. */
  onPayload?: (header: Extract<Response, { type: 'ChunkHeader' }>, reader: ByteReader) => Promise<void>;
}

/**
 * The control-plane client as the peer layer needs it. The QUIC implementation lives in
 * transport/; this seam keeps peers/ free of any QUIC library detail.
 */
export interface PeerTransport {
  request(target: PeerTarget, request: Request, options?: RequestOptions): Promise<Response>;
  /**
   * Sends one request to an address whose identity is not known yet (a manual peer) and
   * returns the certificate fingerprint that answered; later requests pin that fingerprint.
   */
  probe(host: string, port: number, request: Request, options?: RequestOptions): Promise<{ peerId: PeerId; response: Response }>;
  closePeer(peerId: PeerId): Promise<void>;
  onConnectionLost(listener: (peerId: PeerId) => void): () => void;
}
