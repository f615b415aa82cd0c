// JSON with object keys sorted, so equal data always hashes the same (digests, run and job ids).
// Output equals JSON.stringify of the same data with its keys sorted. Written into one list of
// pieces joined once: a GitSource digests every object it applies on every sync, and building a
// string per nested value made most of a 10,000-object sync's garbage.

/** Quoted keys, kept: objects of one kind repeat the same few keys. */
const quotedKeys = new Map<string, string>();
const quoted = (k: string) => {
  let q = quotedKeys.get(k);
  if (q === undefined) {
    q = JSON.stringify(k);
    if (quotedKeys.size < 10_000) quotedKeys.set(k, q);
  }
  return q;
};

const write = (v: unknown, out: string[]): void => {
  if (Array.isArray(v)) {
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (i > 0) out.push(',');
      write(v[i], out);
    }
    out.push(']');
  } else if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    out.push('{');
    let first = true;
    for (const k of Object.keys(o).sort()) {
      const x = o[k];
      if (x === undefined) continue;
      if (!first) out.push(',');
      first = false;
      out.push(quoted(k), ':');
      write(x, out);
    }
    out.push('}');
  } else {
    out.push(JSON.stringify(v) ?? 'null');
  }
};

export const canonicalJson = (v: unknown): string => {
  const out: string[] = [];
  write(v, out);
  return out.join('');
};
