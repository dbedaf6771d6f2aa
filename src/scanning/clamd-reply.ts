/**
 * clamd's answers, read exactly. With the `z` command prefix every answer ends in one NUL byte
 * (clamd's own docs: "zCOMMAND\0 … replies are delimited by NUL"), which the connection strips.
 */
import { ScannerUnavailableError, type ScanVerdict } from "./scanner.js";

/** clamd's answer when an INSTREAM sends more than its StreamMaxLength (clamd 0.95 to 1.4). */
const SIZE_LIMIT = "INSTREAM size limit exceeded. ERROR";
/** `stream: <name> FOUND` (ExtendedDetectionInfo adds the hash and size to clamd's log only, checked on 1.4.6). */
const FOUND = /^stream: (\S(?:.*\S)?) FOUND$/;

/** The verdict in an INSTREAM reply; anything else (including clamd's other ERRORs) throws. */
export function parseScanReply(reply: string): ScanVerdict {
  if (reply === "stream: OK") return { kind: "clean" };
  if (reply === SIZE_LIMIT) return { kind: "too-large" };
  const found = FOUND.exec(reply)?.[1];
  if (found !== undefined) return { kind: "infected", signature: found };
  throw new ScannerUnavailableError(`clamd answered INSTREAM with ${JSON.stringify(reply)}`);
}

/** PING's one good answer. */
export function checkPingReply(reply: string): void {
  if (reply !== "PONG") throw new ScannerUnavailableError(`clamd answered PING with ${JSON.stringify(reply)}`);
}
