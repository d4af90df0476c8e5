// Verify a Sendara webhook (Standard Webhooks) in Node, no dependencies.
// Usage: node verify.js signature-fixture.json (CI runs it on the fixture
// the Go code signs; exit 0 when every check below holds).
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");

function verifySendara(secret, headers, body, now = Date.now() / 1000, tolerance = 300) {
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const id = headers["webhook-id"];
  const ts = headers["webhook-timestamp"];
  if (Math.abs(now - Number(ts)) > tolerance) throw new Error("timestamp too old or too new: a replay?");
  const want = crypto.createHmac("sha256", key).update(`${id}.${ts}.`).update(body).digest();
  for (const sig of headers["webhook-signature"].split(" ")) {
    const [version, value] = sig.split(",");
    const got = Buffer.from(value || "", "base64");
    if (version === "v1" && got.length === want.length && crypto.timingSafeEqual(got, want)) return;
  }
  throw new Error("no valid signature");
}

// In an Express app, verify the raw body before parsing it:
//   app.post("/hooks/sendara", express.raw({ type: "application/json" }), (req, res) => {
//     verifySendara(process.env.SENDARA_WEBHOOK_SECRET, req.headers, req.body);
//     const event = JSON.parse(req.body); ... res.sendStatus(204);
//   });

const f = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const body = Buffer.from(f.body);
verifySendara(f.secret, f.headers, body, f.now);
verifySendara(f.old_secret, f.headers, body, f.now);
const mustFail = {
  "edited body": [f.secret, f.headers, Buffer.from(f.body.replace("opted_out", "opted_in")), f.now],
  "wrong secret": ["whsec_" + Buffer.alloc(24, "x").toString("base64"), f.headers, body, f.now],
  "an hour later": [f.secret, f.headers, body, f.now + 3600],
};
for (const [name, args] of Object.entries(mustFail)) {
  let verified = true;
  try { verifySendara(...args); } catch { verified = false; }
  if (verified) { console.error(`node: ${name} verified, it must not`); process.exit(1); }
}
console.log("node: signature fixture verified");
