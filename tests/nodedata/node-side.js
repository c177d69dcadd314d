// node-side.js: the Node services' side of tests/it/nodedata.sh. Their
// mongoose models, declared as DATA.md shows them, read and write the
// database board shares; bcryptjs and argon2 make and check the hashes.
//
//   node node-side.js URI seed			users and posts as the Node
//						services write them (JSON ids)
//   node node-side.js URI verify NAME PASSWORD	"ok SCHEME" or "fail SCHEME"
//   node node-side.js URI user NAME		the user, hash shown by scheme
//   node node-side.js URI post ID		the post with populate('author')
//   node node-side.js URI posts			every post, populated, newest first
//   node node-side.js URI write NAME TITLE	a post by NAME; prints its id
//   node node-side.js URI dump			both collections, every field
//   node node-side.js URI old-layout		documents of the earlier board
//						layout (pwhash, authorId)
'use strict';
const mongoose = require('mongoose');
const bcrypt = require('bcryptjs');
const argon2 = require('argon2');
const crypto = require('crypto');

const { Schema } = mongoose;

// The auth service's model (DATA.md).
const UserSchema = new Schema({
  username: { type: String, required: true, unique: true },
  password: { type: String, required: true },
});
// The board service's NestJS model: timestamps, author a User ref.
const PostSchema = new Schema({
  title: { type: String },
  content: { type: String },
  author: { type: Schema.Types.ObjectId, ref: 'User' },
}, { timestamps: true });

const User = mongoose.model('User', UserSchema);
const Post = mongoose.model('Post', PostSchema);

function scheme(hash) {
  if (typeof hash !== 'string') return 'none';
  if (/^\$2[aby]\$\d\d\$/.test(hash)) return 'bcrypt' + hash.slice(0, 4);
  const m = /^\$(argon2(?:id|i|d))\$/.exec(hash);
  return m ? m[1] : 'unknown';
}

async function check(hash, pw) {
  const s = scheme(hash);
  if (s.startsWith('bcrypt')) return bcrypt.compare(pw, hash);
  if (s.startsWith('argon2')) return argon2.verify(hash, pw);
  return false;
}

function postJson(p) {
  return {
    id: String(p._id), title: p.title, content: p.content,
    author: p.author && p.author.username !== undefined
      ? { id: String(p.author._id), username: p.author.username }
      : p.author ? { id: String(p.author), username: null } : null,
    createdAt: p.createdAt.toJSON(), updatedAt: p.updatedAt.toJSON(),
    __v: p.__v,
  };
}

async function main() {
  const [uri, cmd, ...args] = process.argv.slice(2);
  // jongodb, the test server, has no "create" command: let inserts make
  // the collections (as MongoDB does anyway). Indexes are still made.
  mongoose.set('autoCreate', false);
  await mongoose.connect(uri, { serverSelectionTimeoutMS: 5000 });
  await User.init();
  await Post.init();
  const out = (v) => process.stdout.write(JSON.stringify(v) + '\n');
  switch (cmd) {
  case 'seed': {
    // bcryptjs at cost 10 as the auth service hashes; node-argon2 at its
    // defaults (argon2id m=65536, t=3, p=4); an argon2i; an unreadable one.
    const b = await User.create({ username: 'nodebcrypt',
      password: bcrypt.hashSync('bcrypt-password', 10) });
    const a = await User.create({ username: 'nodeargon',
      password: await argon2.hash('argon-password') });
    const i = await User.create({ username: 'nodeargoni',
      password: await argon2.hash('argoni-password',
        { type: argon2.argon2i, memoryCost: 4096, timeCost: 2 }) });
    const odd = await User.create({ username: 'nodeodd',
      password: 'plain-text-password' });
    const posts = [];
    for (let k = 1; k <= 3; k++) {
      posts.push(await Post.create({ title: `node post ${k}`,
        content: `written by mongoose ${k} \u00e9\u2603`, author: b._id }));
    }
    posts.push(await Post.create({ title: 'argon post', content: 'x',
      author: a._id }));
    const ghost = new mongoose.Types.ObjectId();
    posts.push(await Post.create({ title: 'orphan post', content: 'y',
      author: ghost }));
    out({ bcrypt: String(b._id), argon: String(a._id),
      argoni: String(i._id), odd: String(odd._id), ghost: String(ghost),
      posts: posts.map((p) => String(p._id)) });
    break;
  }
  case 'verify': {
    const u = await User.findOne({ username: args[0] });
    const ok = u ? await check(u.password, args[1]) : false;
    console.log(`${ok ? 'ok' : 'fail'} ${u ? scheme(u.password) : 'none'}`);
    break;
  }
  case 'user': {
    const u = await User.findOne({ username: args[0] }).lean();
    if (u) u.password = scheme(u.password);
    out(u);
    break;
  }
  case 'post': {
    const p = await Post.findById(args[0]).populate('author');
    out(p ? postJson(p) : null);
    break;
  }
  case 'posts': {
    const ps = await Post.find().sort({ createdAt: -1, _id: -1 })
      .populate('author');
    out(ps.map(postJson));
    break;
  }
  case 'write': {
    const u = await User.findOne({ username: args[0] });
    const p = await Post.create({ title: args[1], content: 'from node',
      author: u._id });
    console.log(String(p._id));
    break;
  }
  case 'dump': {
    // Every field of every document, in _id order: a digest of the data.
    const db = mongoose.connection.db;
    const h = crypto.createHash('sha256');
    let n = 0;
    for (const c of ['users', 'posts']) {
      for await (const d of db.collection(c).find().sort({ _id: 1 })) {
        h.update(c + JSON.stringify(d) + '\n');
        n++;
      }
    }
    console.log(`${n} ${h.digest('hex')}`);
    break;
  }
  case 'old-layout': {
    // As board wrote documents before DATA.md.
    const db = mongoose.connection.db;
    const uid = new mongoose.Types.ObjectId();
    await db.collection('users').insertOne({ _id: uid, username: 'olduser',
      pwhash: bcrypt.hashSync('old-password', 4), createdAt: new Date() });
    await db.collection('posts').insertOne({ title: 'old post',
      content: 'old', authorId: uid, authorName: 'olduser',
      createdAt: new Date(), updatedAt: new Date() });
    console.log(String(uid));
    break;
  }
  default:
    throw new Error(`unknown command ${cmd}`);
  }
  await mongoose.disconnect();
}

main().catch((e) => {
  console.error(`node-side: ${e.message}`);
  process.exit(1);
});
