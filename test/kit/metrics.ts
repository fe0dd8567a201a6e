/** Reading /metrics (Prometheus text) in tests. */

/** The value of the unlabelled sample `name` in a /metrics body, or undefined when there is none. */
export function sampleValue(body: string, name: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}
