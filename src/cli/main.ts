#!/usr/bin/env node
// The entry when cryo runs from its modules (the launcher falls back to it when no start-up
// snapshot fits this Node); the only module that sets the exit status from argv.
import { exitWhenIdle, main } from './program.js';

exitWhenIdle(await main(process.argv));
