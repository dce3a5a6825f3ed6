/*===- tg_runtime.h - the tgc runtime C API --------------------------------===
 *
 * Loads a compiled artifact (.tgx), owns its buffers and runs its entry
 * points. Every call returns a status code; on failure, tg_last_error()
 * holds a message naming the artifact, buffer or entry point at fault
 * (per thread, valid until the next failing call on that thread).
 *
 *   tg_artifact *a; tg_session *s;
 *   if (tg_artifact_open("mlp.tgx", &a) != TG_OK) puts(tg_last_error());
 *   tg_session_create(a, 42, &s);              // params from their initializers
 *   tg_session_write(s, "image", pixels, bytes);
 *   tg_session_run(s, "train_step");            // updates params in place
 *   tg_session_read(s, "loss", &loss, sizeof loss);
 *
 *===----------------------------------------------------------------------===*/
#ifndef TG_RUNTIME_H
#define TG_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tg_status {
  TG_OK = 0,
  TG_INVALID_ARGUMENT = 1,    /* a bad name, size, file or option */
  TG_NOT_FOUND = 2,           /* no such file, entry point or buffer */
  TG_FAILED_PRECONDITION = 3, /* wrong format version, CPU lacks a feature */
  TG_INTERNAL = 4
} tg_status;

typedef struct tg_artifact tg_artifact;
typedef struct tg_session tg_session;

const char *tg_last_error(void);

/* Opens an artifact: checks its format version and that this CPU has the
 * features it was compiled for. */
tg_status tg_artifact_open(const char *path, tg_artifact **out);
void tg_artifact_close(tg_artifact *artifact);
/* The embedded manifest (JSON), owned by the artifact. */
const char *tg_artifact_manifest(const tg_artifact *artifact);

/* A session owns one set of buffers: params and state initialized with
 * `seed`, hypers set to their defaults, data zeroed. */
tg_status tg_session_create(tg_artifact *artifact, uint64_t seed, tg_session **out);
void tg_session_destroy(tg_session *session);

/* Copies `bytes` (which must equal the buffer's size) into / out of the
 * buffer `name`: an argument of any entry point, or a result of the last run. */
tg_status tg_session_write(tg_session *session, const char *name, const void *data, size_t bytes);
tg_status tg_session_read(const tg_session *session, const char *name, void *data, size_t bytes);
/* Size in bytes of buffer `name`, or 0 when there is none. */
size_t tg_session_buffer_size(const tg_session *session, const char *name);

/* Runs entry point `entry` (train_step, eval_step, predict, ...). */
tg_status tg_session_run(tg_session *session, const char *entry);

/* Data-parallel runs: the communicator (a tg::dist::Communicator *, see
 * distributed/Communicator.h; not owned) that the compiled collectives of
 * this session's entry points use. NULL, the default, is one rank: the
 * collectives are the identity. */
tg_status tg_session_set_communicator(tg_session *session, void *communicator);

#ifdef __cplusplus
}
#endif

#endif /* TG_RUNTIME_H */
