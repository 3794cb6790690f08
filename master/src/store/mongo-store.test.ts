// MongoStore against a real MongoDB server, named by WHARF_TEST_MONGO_URL (for example the
// replica set of database/docker-compose.yml: mongodb://wharf:…@127.0.0.1:27017/?authSource=admin).
// Each store gets its own database, dropped afterwards. Without the variable this file prints
// one line saying the suite was skipped and why; nothing here fakes a server.
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { MongoStore } from './mongo-store.js';
import { describeStoreConformance, mockAttempt, mockTask } from './store.conformance.js';

const url = process.env.WHARF_TEST_MONGO_URL;
const databases: string[] = [];

async function freshStore(): Promise<MongoStore> {
  const name = `wharf_conformance_${randomUUID().slice(0, 8)}`;
  databases.push(name);
  return MongoStore.connect(url!, name);
}

if (url === undefined || url === '') {
  const reason =
    'MongoStore conformance suite skipped: WHARF_TEST_MONGO_URL is not set (no MongoDB server on this machine); ' +
    'set it to a MongoDB URL, e.g. the one from database/README.md, to run it';
  console.log(reason);
  describe('Store conformance: MongoStore', () => {
    it.skip(reason, () => {});
  });
} else {
  afterAll(async () => {
    const client = new MongoClient(url);
    try {
      for (const name of databases) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  });

  describeStoreConformance('MongoStore', freshStore);

  describe('MongoStore on a real server', () => {
    it('creates the indexes the issue names, and the unique email index', async () => {
      const store = await freshStore();
      try {
        const names = async (collection: string) => (await store.db.collection(collection).indexes()).map((index) => index.name);
        expect(await names('tasks')).toEqual(expect.arrayContaining(['tasks_queue', 'tasks_by_user', 'tasks_by_worker']));
        expect(await names('attempts')).toContain('attempts_by_task');
        expect(await names('files')).toEqual(expect.arrayContaining(['files_by_task', 'files_by_user']));
        const email = (await store.db.collection('users').indexes()).find((index) => index.name === 'users_by_email');
        expect(email?.unique).toBe(true);
        expect(await names('workers')).toContain('_id_');
      } finally {
        await store.close();
      }
    });

    it('lets only one of two masters on the same database assign a task', async () => {
      const first = await freshStore();
      const second = await MongoStore.connect(url, databases[databases.length - 1]!);
      try {
        const task = mockTask();
        await first.commit([{ kind: 'insertTask', task }]);
        const assign = (store: MongoStore) => {
          const attempt = mockAttempt(task);
          return store.commit([
            { kind: 'insertAttempt', attempt },
            { kind: 'updateTask', taskId: task.id, expectStatus: ['queued'], patch: { status: 'assigned', currentAttemptId: attempt.id } },
          ]);
        };
        const results = await Promise.all([assign(first), assign(second), assign(first), assign(second)]);
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await second.listAttempts(task.id)).toHaveLength(1);
        expect((await first.getTask(task.id))?.currentAttemptId).toBe((await first.listAttempts(task.id))[0]?.id);
      } finally {
        await first.close();
        await second.close();
      }
    });

    it('says whether the server runs commits in transactions (a replica set does)', async () => {
      const store = await freshStore();
      try {
        const hello = await store.db.admin().command({ hello: 1 });
        expect(store.transactions).toBe(typeof hello.setName === 'string' || hello.msg === 'isdbgrid');
      } finally {
        await store.close();
      }
    });
  });
}
