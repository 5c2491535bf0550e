// Category inference from verbs and shell commands, which decides which rules a request meets.
import { describe, expect, it } from 'vitest';
import { categoryOfCommand, categoryOfVerb } from '../src/request/category.js';
import { normalizeRequest } from '../src/request/normalize.js';

describe('category of a command', () => {
  const cases: [string, string | undefined][] = [
    ['kubectl delete pod web-1 -n prod', 'DELETE'],
    ['kubectl -n prod get pods', 'ACCESS'],
    ['kubectl apply -f deploy.yaml', 'MODIFY'],
    ['kubectl rollout status deploy/web', 'ACCESS'],
    ['sudo -E rm -rf /var/tmp/cache', 'DELETE'],
    ['env FOO=1 timeout 30 terraform destroy -auto-approve', 'DELETE'],
    ['terraform apply -destroy', 'DELETE'],
    ['terraform plan -out plan.bin', 'ACCESS'],
    ['git log --oneline | head -5', 'ACCESS'],
    ['git push --force origin main', 'MODIFY'],
    ['git push origin --delete feature', 'DELETE'],
    ['git commit -m "remove rm -rf from the script"', 'MODIFY'],
    ['helm uninstall web', 'DELETE'],
    ['aws s3 rm s3://bucket/key', 'DELETE'],
    ['aws ec2 terminate-instances --instance-ids i-1', 'DELETE'],
    ['aws ec2 describe-instances', 'ACCESS'],
    ['aws s3 cp ./a.txt s3://bucket/a.txt', 'MODIFY'],
    ['gcloud compute instances delete vm-1 --zone us-east1-b', 'DELETE'],
    ['psql -c "DROP TABLE users"', 'DELETE'],
    ["mysql -e 'select * from users'", 'ACCESS'],
    ['DELETE FROM sessions WHERE expired', 'DELETE'],
    ['curl -X DELETE https://api/x', 'DELETE'],
    ['curl https://example.com/status', 'ACCESS'],
    ['bash -c "ls /tmp && rm -rf /tmp/x"', 'DELETE'],
    ['echo $(rm -rf ~/work)', 'DELETE'],
    ['cat README.md', 'ACCESS'],
    ['docker system prune -af', 'DELETE'],
    ['npm install left-pad', 'CREATE'],
    ['echo hello', undefined],
  ];
  for (const [cmd, want] of cases) it(cmd, () => expect(categoryOfCommand(cmd)).toBe(want));
});

describe('category of a verb', () => {
  it('reads the first word of an action', () => {
    expect(categoryOfVerb('remove_file')).toBe('DELETE');
    expect(categoryOfVerb('terminate-instance')).toBe('DELETE');
    expect(categoryOfVerb('read_logs')).toBe('ACCESS');
    expect(categoryOfVerb('shell_exec')).toBeUndefined();
  });
  it('a command decides over a generic verb; an explicit category over both', () => {
    expect(normalizeRequest({ agent: 'a', action: 'shell_exec', command: 'kubectl delete ns x' }).category).toBe('DELETE');
    expect(normalizeRequest({ agent: 'a', action: 'run', command: 'git status' }).category).toBe('ACCESS');
    expect(normalizeRequest({ agent: 'a', action: 'run', command: 'git status', category: 'COMPLY' }).category).toBe('COMPLY');
    expect(normalizeRequest({ agent: 'a', request: 'please tidy up' }).category).toBeUndefined();
  });
});
