import fs from 'node:fs';
import path from 'node:path';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** Where the certificate came from, for the start-up line. */
  source: string;
}

/** When the certificate expires (epoch ms); 0 when it cannot be read. */
function readValidTo(pem: string): number {
  try {
    return new Date(new X509Certificate(pem).validTo).getTime();
  } catch {
    return 0;
  }
}

/**
 * The given certificate, or a self-signed one for localhost kept in the data dir (made on
 * first start, remade when it is about to expire), so browsers and wss-only clients can connect.
 */
export async function loadTls(options: { cert?: string; key?: string; dataDir: string; hosts?: string[] }): Promise<TlsMaterial> {
  if (options.cert && options.key) {
    return { cert: fs.readFileSync(options.cert, 'utf8'), key: fs.readFileSync(options.key, 'utf8'), source: options.cert };
  }
  const dir = path.join(options.dataDir, 'tls');
  const certPath = path.join(dir, 'self-signed.crt');
  const keyPath = path.join(dir, 'self-signed.key');
  if (fs.existsSync(certPath) && fs.existsSync(keyPath)) {
    const cert = fs.readFileSync(certPath, 'utf8');
    // A process killed while writing it leaves a cut file: then it is made again, not a failed start.
    const validTo = readValidTo(cert);
    if (validTo - Date.now() > 7 * 24 * 3600 * 1000) return { cert, key: fs.readFileSync(keyPath, 'utf8'), source: certPath };
  }
  const hosts = [...new Set(['localhost', ...(options.hosts ?? [])])];
  const ips = ['127.0.0.1', '::1', ...hosts.filter((h) => /^[\d.]+$|:/.test(h))];
  const names = hosts.filter((h) => !/^[\d.]+$|:/.test(h) && h !== '0.0.0.0');
  const pems = await generate([{ name: 'commonName', value: 'OmniLive local' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...names.map((value) => ({ type: 2 as const, value })), ...[...new Set(ips)].map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(keyPath, pems.private, { mode: 0o600 });
  fs.writeFileSync(certPath, pems.cert);
  return { cert: pems.cert, key: pems.private, source: `${certPath} (self-signed, made now)` };
}
