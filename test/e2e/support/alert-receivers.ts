/**
 * Alert receivers for the monitor e2e suite, on loopback (webhook, syslog over UDP and TCP), that
 * can go down and come back on the same port, and a polling wait. The e2e suites see only what
 * arrives on the wire, so the alert shape is written here from docs/monitor.md (falcosidekick's
 * input fields), not imported from src/.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import {
  type AddressInfo,
  createServer as createTcpServer,
  type Server as TcpServer,
  type Socket,
} from 'node:net';

/** An alert as the monitor sends it (falcosidekick's input format, docs/monitor.md). */
export interface Alert {
  uuid: string;
  output: string;
  priority: string;
  rule: string;
  time: string;
  output_fields: Record<string, string | number | boolean | null | string[]>;
  source: string;
  tags: string[];
  hostname: string;
}

/** Polls until `cond` holds; fails the test naming `what` after `ms`. */
export async function waitFor(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Listens on loopback (port 0: any free one) and returns the port it got. */
async function listenOn(server: HttpServer | TcpServer, port: number): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Closes a server after cutting its open connections (a receiver that goes away). */
async function closeServer(server: HttpServer | TcpServer | undefined, sockets?: Set<Socket>): Promise<void> {
  if (!server) return;
  if (sockets) for (const s of sockets) s.destroy();
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A webhook receiver on loopback (port 0: any free one, kept across down and up). */
export class WebhookReceiver {
  received: Alert[] = [];
  private server: HttpServer | undefined;
  constructor(public port = 0) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}/alerts`;
  }
  async up(): Promise<void> {
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Alert);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    this.port = await listenOn(server, this.port);
    this.server = server;
  }
  async down(): Promise<void> {
    await closeServer(this.server);
    this.server = undefined;
  }
}

/** A syslog receiver over UDP on loopback: one message per datagram. */
export class SyslogUdpReceiver {
  messages: string[] = [];
  port = 0;
  private socket: UdpSocket | undefined;
  async up(): Promise<void> {
    const socket = createSocket('udp4');
    socket.on('message', (m) => this.messages.push(m.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(this.port, '127.0.0.1', resolve));
    this.port = socket.address().port;
    this.socket = socket;
  }
  async down(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}

/**
 * A syslog receiver over TCP on loopback with octet-counting framing (RFC 6587 3.4.1); `down`
 * cuts its connections, as a restarting receiver would.
 */
export class SyslogTcpReceiver {
  messages: string[] = [];
  private server: TcpServer | undefined;
  private readonly sockets = new Set<Socket>();
  constructor(public port = 0) {}
  async up(): Promise<void> {
    const server = createTcpServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      let buffer = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const sp = buffer.indexOf(0x20);
          if (sp === -1) return;
          const len = Number(buffer.subarray(0, sp).toString('ascii'));
          if (buffer.length < sp + 1 + len) return;
          this.messages.push(buffer.subarray(sp + 1, sp + 1 + len).toString('utf8'));
          buffer = buffer.subarray(sp + 1 + len);
        }
      });
    });
    this.port = await listenOn(server, this.port);
    this.server = server;
  }
  async down(): Promise<void> {
    await closeServer(this.server, this.sockets);
    this.server = undefined;
  }
}
