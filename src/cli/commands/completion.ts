// cryo completion bash|zsh: a completion script generated from this program's commands and options.
import type { Command } from 'commander';
import { commandLoaders } from './index.js';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash or zsh); e.g. source <(cryo completion bash)')
    .addArgument(program.createArgument('<shell>', 'the shell: bash or zsh').choices(['bash', 'zsh']))
    .action(async (shell: 'bash' | 'zsh') => {
      // only this command was loaded to run it: register the others to describe them all
      const have = new Set(program.commands.map((c) => c.name()));
      for (const [name, load] of Object.entries(commandLoaders)) if (!have.has(name)) (await load()).register(program);
      const { readCompletionModel } = await import('../render/completion-model.js');
      const model = readCompletionModel(program);
      const render = shell === 'bash' ? (await import('../render/completion-bash.js')).renderBashCompletion : (await import('../render/completion-zsh.js')).renderZshCompletion;
      process.stdout.write(render(model));
    });
}
