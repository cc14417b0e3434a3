// Argon2id for key files (static/keyfile.js), off the page's thread: the derivation takes
// seconds and hundreds of MiB, so it runs here, the page stays responsive, and the memory is
// freed when the page ends this worker. Same parameters as libsodium's crypto_pwhash
// (Argon2id v1.3, one lane, memory = memlimit / 1024 KiB, passes = opslimit, 32-byte key).
importScripts("/static/vendor/hash-wasm/argon2.umd.min.js");

self.onmessage = async ({ data }) => {
  const { password, salt, opslimit, memlimit } = data;
  try {
    const key = await self.hashwasm.argon2id({
      password, salt, iterations: opslimit, parallelism: 1,
      memorySize: Math.floor(memlimit / 1024), hashLength: 32, outputType: "binary",
    });
    self.postMessage({ key }, [key.buffer]);
  } catch (error) {
    self.postMessage({ error: String(error?.message || error) });
  } finally {
    password.fill(0);
  }
};
