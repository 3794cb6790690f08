// The example DAG (Helios-style spelling: depends_on, retries: {count}), shared by the
// integration suites that run it. master/src/dags/dag-spec.test.ts keeps its own verbatim copy
// on purpose: it checks that the file as written in the issue parses.
export function trainPipelineYaml(options: { name?: string; image?: string } = {}): string {
  const name = options.name ?? 'train-pipeline';
  const image = options.image ?? 'wharf/busybox';
  return `dagName: ${name}
useCache: true
tasks:
  - name: generate-data
    image: ${image}
    command: ["sh", "-c", "mkdir -p /output && seq 1 100000 > /output/data.txt"]
    outputs: [data.txt]
  - name: train-model
    image: ${image}
    command: ["sh", "-c", "wc -l /input/data.txt > /output/weights.txt"]
    depends_on: [generate-data]
    inputs: [{fromTask: generate-data, name: data.txt}]
    outputs: [weights.txt]
    retries: {count: 2}
`;
}

/** Bytes of `seq 1 100000`: the size of the example's data.txt. */
export const TRAIN_PIPELINE_DATA_BYTES = 588895;
