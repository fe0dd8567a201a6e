import { runSuite } from '../kit/suites.ts';

await runSuite('dashboard-browser');
