// One unary call through grpc-js's xDS resolver (GRPC_XDS_BOOTSTRAP names the controller), raw bytes both ways.
// Prints one line: RESULT code=<status name> details="<text>" ms=<elapsed>, or RESULT ok=<reply> ms=<elapsed>.
// Run from a directory whose node_modules holds @grpc/grpc-js and @grpc/grpc-js-xds (GrpcJsClientTest).
require('@grpc/grpc-js-xds').register();
const grpc = require('@grpc/grpc-js');
const [target, method, deadlineMs] = process.argv.slice(2);
const client = new grpc.Client(target, grpc.credentials.createInsecure());
const started = Date.now();
client.makeUnaryRequest(method, b => b, b => b, Buffer.alloc(0), new grpc.Metadata(),
  {deadline: new Date(started + Number(deadlineMs))},
  (err, reply) => {
    const ms = Date.now() - started;
    console.log(err ? `RESULT code=${grpc.status[err.code]} details="${err.details}" ms=${ms}`
                    : `RESULT ok=${reply.toString()} ms=${ms}`);
    client.close();
    process.exit(0);
  });
