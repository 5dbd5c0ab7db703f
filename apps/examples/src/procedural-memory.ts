// Procedural memory: an agent remembers how it carried out a task (its steps, tool calls and their
// results) as ONE memory of type procedural, with custom summary instructions, and finds it by type.
// Without an LLM configured, core's ScriptedLLM answers as a model following the instructions does.
import type { ChatMessage } from '@mem/core';
import { DEFAULT_PROCEDURAL_INSTRUCTIONS, proceduralSystemPrompt } from '@mem/core';
import { announceScripted, createExampleMemory, heading } from './setup';

const procedural = `${DEFAULT_PROCEDURAL_INSTRUCTIONS}
Put the commands that worked last, in the order to run them again.`;

const SUMMARY = [
  'Task: deploy build 4821 of the billing service to staging (completed).',
  '1. run_shell `kubectl rollout restart deploy/billing -n staging` failed: Error from server (NotFound): deployments.apps "billing" not found.',
  '2. run_shell `kubectl get deploy -n staging` listed billing-api.',
  '3. run_shell `kubectl set image deploy/billing-api api=registry.example.com/billing:4821 -n staging`: image updated.',
  'Avoid: the deployment is billing-api, not billing.',
  'Commands that worked: kubectl set image deploy/billing-api api=registry.example.com/billing:4821 -n staging',
].join('\n');

const { memory, description, scripted } = createExampleMemory({
  prompts: { procedural },
  // The reply of a model that follows the instructions above.
  script: [{ json: { summary: SUMMARY } }],
});
if (scripted) announceScripted("one summary of the agent's run, commands and errors verbatim.");
console.log(`procedural memory: ${description}`);
heading('the system prompt the LLM receives');
console.log(proceduralSystemPrompt(procedural));

// The run as an agent framework records it: assistant tool calls, then the tool results.
const run: ChatMessage[] = [
  { role: 'user', content: 'Deploy build 4821 of the billing service to staging.' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_1', name: 'run_shell', arguments: { command: 'kubectl rollout restart deploy/billing -n staging' } }],
  },
  { role: 'tool', toolCallId: 'call_1', name: 'run_shell', content: 'Error from server (NotFound): deployments.apps "billing" not found' },
  {
    role: 'assistant',
    content: '',
    toolCalls: [{ id: 'call_2', name: 'run_shell', arguments: { command: 'kubectl get deploy -n staging' } }],
  },
  { role: 'tool', toolCallId: 'call_2', name: 'run_shell', content: 'NAME          READY\nbilling-api   3/3' },
  {
    role: 'assistant',
    content: 'The deployment is billing-api.',
    toolCalls: [
      {
        id: 'call_3',
        name: 'run_shell',
        arguments: { command: 'kubectl set image deploy/billing-api api=registry.example.com/billing:4821 -n staging' },
      },
    ],
  },
  { role: 'tool', toolCallId: 'call_3', name: 'run_shell', content: 'deployment.apps/billing-api image updated' },
  { role: 'assistant', content: 'Build 4821 is rolling out on staging.' },
];

const scope = { userId: 'ops-team', agentId: 'deployer' };
heading('add the run with memoryType: procedural');
const { events, usage } = await memory.add(run, { scope, memoryType: 'procedural' });
for (const event of events) console.log(`${event.kind.padEnd(6)} ${event.id}`);
console.log(`(LLM calls: ${usage.llmCalls})`);
await memory.add('The staging cluster is called stg-eu-1', { scope, infer: false });

heading('search "deploy billing to staging", procedural memories only');
const { results } = await memory.search('deploy billing to staging', { scope, filter: { memoryType: 'procedural' } });
for (const result of results) console.log(`[${result.memoryType}]\n${result.text}`);
heading('everything else');
const { results: others } = await memory.getAll({ scope, filter: { memoryType: { $ne: 'procedural' } } });
for (const item of others) console.log(item.text);
await memory.close();
