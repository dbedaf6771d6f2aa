import { runDriverContract } from "../contract/driver-contract.js";
import { s3Driver, tempBucket } from "../helpers/s3.js";

// The same contract the local driver passes, against a real S3 server (Ceph RGW) that checks
// SigV4 for real: the presigned-URL refusals here come from the store itself.
runDriverContract("S3 (Ceph RADOS Gateway)", async () => {
  const bucket = await tempBucket();
  const driver = s3Driver({ media: { name: bucket.name, public: false } });
  return { driver, bucket: "media", close: () => bucket.drop() };
});
