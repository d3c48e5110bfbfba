// Owned by the S3 offload work (issue 4): starts a local S3-compatible server for the run.
export async function setup(): Promise<void> {}
export async function teardown(): Promise<void> {}
