// Owned by the CloudWatch work (issue 5): starts moto_server for the run, or says loudly that it is absent.
export async function setup(): Promise<void> {}
export async function teardown(): Promise<void> {}
