// The one place the app gets PouchDB from, so the compiled binary has both adapters:
// 'leveldb' (pouchdb's Node default, on-disk directory) and 'memory'. leveldb's native addon is
// embedded by the leveldown plugin in scripts/build.ts; nothing extra is needed here at run time.
import PouchDBBase from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';

PouchDBBase.plugin(memoryAdapter);

export const PouchDB: PouchDB.Static = PouchDBBase;
export default PouchDB;
