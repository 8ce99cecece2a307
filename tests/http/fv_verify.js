// Verifies a Fourvenues webhook as its receivers do, both ways the vendor's
// docs allow: HMAC-SHA256 over the raw body, and over JSON.stringify of the
// parsed body. Usage: node fv_verify.js SECRET SIGNATURE < body; prints
// "raw ok" / "stringify ok" lines and exits 1 when either fails.
const crypto = require("crypto");
const [secret, signature] = process.argv.slice(2);
const chunks = [];
process.stdin.on("data", (c) => chunks.push(c));
process.stdin.on("end", () => {
  const raw = Buffer.concat(chunks);
  const mac = (bytes) => crypto.createHmac("sha256", secret).update(bytes).digest("hex");
  const rawOk = mac(raw) === signature;
  const again = JSON.stringify(JSON.parse(raw.toString("utf8")));
  const stringifyOk = mac(Buffer.from(again, "utf8")) === signature;
  console.log(rawOk ? "raw ok" : "raw BAD");
  console.log(stringifyOk ? "stringify ok" : "stringify BAD " + again);
  process.exit(rawOk && stringifyOk ? 0 : 1);
});
