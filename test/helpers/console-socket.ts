// A console socket for --console-socket tests: recvtty.py listens on it,
// takes the pty master and copies the terminal's output until it closes.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { tempDir } from './tmp';

export interface ConsoleReceiver {
  socketPath: string;
  /** Resolves with the pty's name and then its output, once the terminal closes. */
  output(): Promise<string>;
}

/** Starts recvtty.py and resolves once it listens. */
export async function listenForConsole(): Promise<ConsoleReceiver> {
  const socketPath = path.join(tempDir('ocits-console-'), 'console.sock');
  const receiver = spawn('/usr/bin/python3', [path.join(__dirname, 'recvtty.py'), socketPath]);
  let output = '';
  receiver.stdout.on('data', (chunk) => (output += chunk));
  const done = new Promise((resolve) => receiver.on('exit', resolve));
  while (!output.includes('listening')) await new Promise((resolve) => setTimeout(resolve, 10));
  return {
    socketPath,
    output: async () => {
      await done;
      return output.split('\n').slice(1).join('\n');
    },
  };
}
