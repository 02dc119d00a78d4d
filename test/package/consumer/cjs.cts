// A user's CommonJS program: require() of the installed ES module package (Node >= 20.19), typed.
import cryo = require('cryo');

const [image] = process.argv.slice(2) as [string];
const img = cryo.readImage(image);
let caught: string | null = null;
try {
  cryo.readImage(`${image}.missing`);
} catch (e) {
  if (e instanceof cryo.CryoError) caught = e.code;
}
console.log(JSON.stringify({
  magic: img.magic,
  entries: img.entries.length,
  caught,
  functions: [cryo.run, cryo.dump, cryo.restore].map((f) => typeof f),
}));
