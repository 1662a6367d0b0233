#!/usr/bin/env node
// Stands in for `accelerate launch ... -m joules_worker --config C --output-dir D` on one node of
// a Slurm job, to cause on cue what the real worker does not: FAKE_SCENARIO=hang prints one
// progress event (machine rank 0) and then never ends nor writes anything.
const args = process.argv.slice(2);
const arg = (name) => args[args.indexOf(name) + 1];
if (args[0] !== 'launch' || !arg('--output-dir')) {
  console.error(`fake-accelerate: unexpected arguments ${JSON.stringify(args)}`);
  process.exit(2);
}
const machineRank = Number(arg('--machine_rank'));
switch (process.env.FAKE_SCENARIO ?? 'hang') {
  case 'hang':
    if (machineRank === 0) {
      process.stdout.write(
        `${JSON.stringify({ v: 1, rank: 0, time: Date.now() / 1000, event: 'stage', stage: 'measuring' })}\n`,
      );
    }
    setInterval(() => {}, 1000);
    break;
  default:
    process.exit(99);
}
