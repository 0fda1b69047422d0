/** The lab's one port: HTTPS for the browser and plain HTTP for the team's keys, side by side. */
import { createServer, get, type IncomingMessage } from "node:http";
import { createServer as createHttpsServer, get as httpsGet } from "node:https";
import { connect } from "node:net";
import { listen } from "../../lab/listener";
import { newCertificate } from "../../lab/tls";

describe("the lab's port", () => {
  it("answers HTTPS and plain HTTP side by side, and closing it ends connections still open", async () => {
    const certificate = await newCertificate(["lab.test"]);
    const secure = createHttpsServer({ key: certificate.key, cert: certificate.cert }, (_q, r) =>
      r.end("over TLS"),
    );
    const plain = createServer((_q, r) => r.end("plain"));
    const listener = await listen(0, secure, plain);
    const text = (res: IncomingMessage): Promise<string> =>
      new Promise((resolve) => {
        let body = "";
        res.on("data", (c: Buffer) => (body += c.toString()));
        res.on("end", () => resolve(body));
      });
    const held = connect(listener.port, "127.0.0.1");
    try {
      const overTls = await new Promise<string>((resolve) =>
        httpsGet(
          {
            host: "127.0.0.1",
            port: listener.port,
            servername: "lab.test",
            ca: certificate.cert,
            agent: false,
          },
          (res) => void text(res).then(resolve),
        ),
      );
      const overHttp = await new Promise<string>((resolve) =>
        get(
          { host: "127.0.0.1", port: listener.port, agent: false },
          (res) => void text(res).then(resolve),
        ),
      );
      expect([overTls, overHttp]).toEqual(["over TLS", "plain"]);
      const ended = new Promise<void>((resolve) => held.once("close", () => resolve()));
      await listener.close();
      await ended;
    } finally {
      held.destroy();
    }
  });
});
