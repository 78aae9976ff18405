/**
 * Test certificate authorities and server certificates, made with the openssl CLI (Debian's `openssl`):
 * a CA, and server certificates it signs for the names a test chooses (IP and DNS subjectAltNames).
 * Keys are EC P-256 (fast to generate). Everything lives in a harness temp dir, removed by stopAll.
 */
import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { tempDir } from "./process";

const run = promisify(execFile);

export interface CertificateAuthority {
  name: string;
  /** PEM file of the CA certificate (what a client trusts). */
  certFile: string;
  keyFile: string;
  dir: string;
}

/** A server certificate and its key, as files. */
export interface ServerTls {
  certFile: string;
  keyFile: string;
  /** The CA that signed it. */
  caFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await run("openssl", args, { cwd });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`openssl ${args[0]} failed: ${stderr ?? String(error)} (install the Debian package "openssl")`);
  }
}

/** A new self-signed CA, valid for a day. `name` (letters, digits, -) is its CN and its files' prefix. */
export async function createCertificateAuthority(name: string): Promise<CertificateAuthority> {
  const dir = await tempDir(`ca-${name}`);
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.crt`);
  await openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
    ],
    dir,
  );
  return { name, certFile, keyFile, dir };
}

/**
 * A server certificate signed by `ca` for `names` (each an IP address or a DNS name; the first is the CN),
 * with serverAuth usage. `label` names its files.
 */
export async function issueServerCertificate(ca: CertificateAuthority, label: string, names: readonly string[]): Promise<ServerTls> {
  const keyFile = path.join(ca.dir, `${label}.key`);
  const csrFile = path.join(ca.dir, `${label}.csr`);
  const certFile = path.join(ca.dir, `${label}.crt`);
  const extFile = path.join(ca.dir, `${label}.ext`);
  const altNames = names.map((name) => (/^[\d.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(",");
  await fs.writeFile(extFile, `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await openssl(
    [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      csrFile,
      "-subj",
      `/CN=${names[0]}`,
    ],
    ca.dir,
  );
  await openssl(
    [
      "x509",
      "-req",
      "-in",
      csrFile,
      "-CA",
      ca.certFile,
      "-CAkey",
      ca.keyFile,
      "-CAcreateserial",
      "-out",
      certFile,
      "-days",
      "1",
      "-extfile",
      extFile,
    ],
    ca.dir,
  );
  // Servers running as another user (postgres) read these: the directory and files must be reachable.
  await fs.chmod(ca.dir, 0o755);
  await Promise.all([fs.chmod(certFile, 0o644), fs.chmod(keyFile, 0o644)]);
  return { certFile, keyFile, caFile: ca.certFile };
}
