import { runDriverContract } from "../contract/driver-contract.js";
import { startStowage } from "../helpers/server.js";

// The local driver's presigned URLs are served by Stowage itself, so the contract runs against
// a real server on an ephemeral port with a real temp directory.
runDriverContract("local disk", async () => {
  const server = await startStowage();
  return { driver: server.runtime.driver, bucket: "private", close: () => server.close() };
});
