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
/** \file
 * The runtime's C API: opens a compiled artifact (.tgx), owns the buffers of
 * a session and runs its entry points. tg/Runtime.h wraps it for C++. */

#ifndef TG_RUNTIME_H
#define TG_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The result of every fallible call; on failure tg_last_error() says why. */
typedef enum tg_status {
  TG_OK = 0,                  /**< success */
  TG_INVALID_ARGUMENT = 1,    /**< a bad name, size, file or option */
  TG_NOT_FOUND = 2,           /**< no such file, entry point or buffer */
  TG_FAILED_PRECONDITION = 3, /**< wrong format version, CPU lacks a feature */
  TG_INTERNAL = 4             /**< a failure inside the runtime or a kernel */
} tg_status;

/** An open artifact: its loaded code and manifest. */
typedef struct tg_artifact tg_artifact;
/** The buffers of one artifact and the state to run its entry points. */
typedef struct tg_session tg_session;

/** The message of this thread's last failed call ("" before any); valid until
 * the next failing call on the thread. */
const char *tg_last_error(void);

/** Opens an artifact: checks its format version and that this CPU has the
 * features it was compiled for. On success stores the handle in `*out`;
 * TG_NOT_FOUND if the file cannot be opened, TG_INVALID_ARGUMENT if it is not
 * an intact tgx artifact, TG_FAILED_PRECONDITION for another format version
 * or missing CPU features. */
tg_status tg_artifact_open(const char *path, tg_artifact **out);
/** Closes an artifact (NULL is ignored); destroy its sessions first. */
void tg_artifact_close(tg_artifact *artifact);
/** The embedded manifest (JSON), owned by the artifact ("" for NULL). */
const char *tg_artifact_manifest(const tg_artifact *artifact);

/** A session owns one set of buffers: params and state initialized with
 * `seed`, hypers set to their defaults, data zeroed. The artifact must stay
 * open while the session lives. */
tg_status tg_session_create(tg_artifact *artifact, uint64_t seed, tg_session **out);

/** A session of one pipeline stage of an artifact compiled with
 * --pipeline-stages: it allocates and initializes only the buffers of that
 * stage's entry points (its params and optimizer state), and runs only them.
 * TG_INVALID_ARGUMENT for a stage the artifact does not have. */
tg_status tg_session_create_stage(tg_artifact *artifact, uint64_t seed, int stage,
                                  tg_session **out);

/** A pipeline stage with data-parallel replicas (--pipeline-stages with
 * --data-parallel=allreduce): `communicator` (a tg::dist::Communicator *)
 * joins the replicas of this rank's stage, for the compiled allreduces;
 * the one of tg_session_set_communicator carries the transfers between
 * stages. NULL: the allreduces use that one too. */
tg_status tg_session_set_data_communicator(tg_session *session, void *communicator);

/** Seconds the calling thread's entry points have spent waiting for pipeline
 * transfers (tg.recv_wait: the peer stage had not sent yet) since the thread
 * started: a pipeline stage's idle time, its share of the bubble. */
double tg_pipeline_wait_seconds(void);
/** Frees a session and its buffers (NULL is ignored). */
void tg_session_destroy(tg_session *session);

/** Copies `bytes` (which must equal the buffer's size) into the argument
 * buffer `name` of any entry point; TG_NOT_FOUND if there is none. */
tg_status tg_session_write(tg_session *session, const char *name, const void *data, size_t bytes);
/** Copies `bytes` (which must equal the buffer's size) out of buffer `name`:
 * a result (as the latest run that produced it left it), else an argument of
 * any entry point. */
tg_status tg_session_read(const tg_session *session, const char *name, void *data, size_t bytes);
/** Size in bytes of buffer `name`, or 0 when there is none. */
size_t tg_session_buffer_size(const tg_session *session, const char *name);

/** Runs entry point `entry` (train_step, eval_step, predict, ...). */
tg_status tg_session_run(tg_session *session, const char *entry);

/** Data-parallel runs: the communicator (a tg::dist::Communicator *, see
 * comm/Communicator.h; not owned) that the compiled collectives of
 * this session's entry points use. NULL, the default, is one rank: the
 * collectives are the identity. */
tg_status tg_session_set_communicator(tg_session *session, void *communicator);

#ifdef __cplusplus
}
#endif

#endif /* TG_RUNTIME_H */
