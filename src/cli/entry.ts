import { main } from './main.js';

// `serve` keeps running and answers -1; every other command exits with its status.
const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
