// A team's own program: plain ESM, the packed @joules/runner from node_modules, nothing else of Joules.
// argv: <suite file> <results dir> <python>
import { runSuite } from '@joules/runner';

const [suite, resultsDir, python] = process.argv.slice(2);
const events = [];
const outcome = await runSuite({ suite, resultsDir, python, onEvent: (e) => events.push(e.type) });
console.log(JSON.stringify({ outcome, events }));
