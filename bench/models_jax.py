"""JAX (XLA:CPU) peer of tg-bench-models: the three example models.

usage: models_jax.py mlp|cnn|lstm|gpt [--steps N] [--warmup N] [--window T] [--hidden H]
                     [--gpt2-small]

gpt: tg-example char-gpt's model (batch 16, block 64, vocab 77, d 128, 4 heads,
2 pre-LayerNorm blocks, tanh-GELU MLP, tied output; AdamW 1e-3, decay 0.1 on
the matrices only) as bench/gpt_torch.py has it; --gpt2-small: 12 blocks,
d 768, 12 heads, block 256, batch 4, vocab 256.

The models and optimizers of examples/Models.cpp in plain JAX (no optax, no
flax): the whole train step (forward, backward, update) is one jax.jit with the
parameters and optimizer slots donated, so XLA may update them in place as tgc
does. One fixed random batch; prints lines in the format of tg-bench-models.
XLA:CPU sizes its thread pool from the CPU affinity: run_models.sh pins the
process with taskset to set the thread count.
"""
import argparse
import statistics
import time
from functools import partial

import jax
import jax.numpy as jnp
from jax import lax


def glorot(key, shape, fan_in, fan_out):
    a = (6.0 / (fan_in + fan_out)) ** 0.5
    return jax.random.uniform(key, shape, jnp.float32, -a, a)


def dense_params(key, n_in, n_out):
    return {"kernel": glorot(key, (n_in, n_out), n_in, n_out), "bias": jnp.zeros(n_out)}


def dense(p, x):
    return x @ p["kernel"] + p["bias"]


def xent(logits, labels):
    # Softmax cross-entropy with integer labels, mean over the batch.
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, labels[:, None], 1))


# --- models: init(key) -> params; loss(params, state, batch) -> (loss, state)

def mlp_init(key):
    k = jax.random.split(key, 3)
    return [dense_params(k[0], 784, 256), dense_params(k[1], 256, 128), dense_params(k[2], 128, 10)]


def mlp_loss(params, state, batch):
    x, y = batch
    x = jax.nn.relu(dense(params[0], x))
    x = jax.nn.relu(dense(params[1], x))
    return xent(dense(params[2], x), y), state


def cnn_init(key):
    k = jax.random.split(key, 4)
    # Conv kernels [F, C, kh, kw] (OIHW) as in tg, glorot with receptive-field fans.
    return {"w1": glorot(k[0], (32, 1, 3, 3), 9, 32 * 9), "b1": jnp.zeros(32),
            "w2": glorot(k[1], (64, 32, 3, 3), 32 * 9, 64 * 9), "b2": jnp.zeros(64),
            "fc1": dense_params(k[2], 64 * 7 * 7, 128), "fc2": dense_params(k[3], 128, 10)}


def conv_relu_pool(x, w, b):
    y = lax.conv_general_dilated(x, w, (1, 1), "SAME", dimension_numbers=("NCHW", "OIHW", "NCHW"))
    y = jax.nn.relu(y + b[None, :, None, None])
    return lax.reduce_window(y, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")


def cnn_loss(params, state, batch):
    x, y = batch
    x = conv_relu_pool(x, params["w1"], params["b1"])
    x = conv_relu_pool(x, params["w2"], params["b2"])
    x = jax.nn.relu(dense(params["fc1"], x.reshape(x.shape[0], -1)))
    return xent(dense(params["fc2"], x), y), state


V, H, T = 77, 128, 25  # the LSTM's vocabulary, units, window (--hidden, --window)


def lstm_params(key, n_in):
    k1, k2 = jax.random.split(key)
    return {"W": glorot(k1, (n_in, 4 * H), n_in, 4 * H), "U": glorot(k2, (H, 4 * H), H, 4 * H),
            "b": jnp.zeros(4 * H), "p_i": jnp.zeros(H), "p_f": jnp.zeros(H), "p_o": jnp.zeros(H)}


def lstm_init(key):
    k = jax.random.split(key, 3)
    return {"l1": lstm_params(k[0], V), "l2": lstm_params(k[1], H), "out": dense_params(k[2], H, V)}


def graves_lstm(p, x, h, c, unroll):
    # tg's layers::LSTM with peepholes, gates i, f, g, o, forget bias 1.
    B, T, D = x.shape
    xw = (x.reshape(B * T, D) @ p["W"] + p["b"]).reshape(B, T, 4 * H)

    def cell(carry, xw_t):
        h, c = carry
        zi, zf, zg, zo = jnp.split(xw_t + h @ p["U"], 4, axis=1)
        i = jax.nn.sigmoid(zi + p["p_i"] * c)
        f = jax.nn.sigmoid(zf + p["p_f"] * c + 1.0)
        c = f * c + i * jnp.tanh(zg)
        h = jax.nn.sigmoid(zo + p["p_o"] * c) * jnp.tanh(c)
        return (h, c), h

    (h, c), hs = lax.scan(cell, (h, c), jnp.swapaxes(xw, 0, 1), unroll=unroll)
    return jnp.swapaxes(hs, 0, 1), h, c


def lstm_loss(params, state, batch, unroll):
    chars, targets = batch
    h1, c1, h2, c2 = state
    x = jax.nn.one_hot(chars, V, dtype=jnp.float32)
    s, h1, c1 = graves_lstm(params["l1"], x, h1, c1, unroll)
    s, h2, c2 = graves_lstm(params["l2"], s, h2, c2, unroll)
    loss = xent(dense(params["out"], s.reshape(-1, H)), targets.reshape(-1))
    # Truncated BPTT: the final states seed the next window, without gradient.
    return loss, tuple(lax.stop_gradient(v) for v in (h1, c1, h2, c2))


# --- optimizers, tg's update rules (include/tg/Optim.h), t counting from 0

GPT = {"char": (16, 64, 77, 128, 4, 2), "gpt2-small": (4, 256, 256, 768, 12, 12)}


def gpt_init(key, cfg):
    B, T, V, D, H, L = cfg
    keys = iter(jax.random.split(key, 4 + 4 * L))
    normal = lambda shape: 0.02 * jax.random.normal(next(keys), shape)
    ln = lambda: {"scale": jnp.ones(D), "bias": jnp.zeros(D)}
    blocks = [{"ln_1": ln(), "ln_2": ln(),
               "in_proj": {"kernel": normal((D, 3 * D)), "bias": jnp.zeros(3 * D)},
               "out_proj": {"kernel": normal((D, D)), "bias": jnp.zeros(D)},
               "fc": {"kernel": normal((D, 4 * D)), "bias": jnp.zeros(4 * D)},
               "proj": {"kernel": normal((4 * D, D)), "bias": jnp.zeros(D)}} for _ in range(L)]
    return {"wte": normal((V, D)), "wpe": normal((T, D)), "h": blocks, "ln_f": ln()}


def layer_norm(p, x):
    mean = jnp.mean(x, -1, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), -1, keepdims=True)
    return (x - mean) * lax.rsqrt(var + 1e-5) * p["scale"] + p["bias"]


def gpt_loss(params, state, batch, cfg):
    B, T, V, D, H, L = cfg
    ids, targets = batch
    x = params["wte"][ids] + params["wpe"]
    mask = jnp.tril(jnp.ones((T, T), bool))
    heads = lambda t: t.reshape(B, T, H, D // H).transpose(0, 2, 1, 3)
    for p in params["h"]:
        q, k, v = jnp.split(dense(p["in_proj"], layer_norm(p["ln_1"], x)), 3, axis=-1)
        s = heads(q) @ heads(k).transpose(0, 1, 3, 2) / (D // H) ** 0.5
        w = jax.nn.softmax(jnp.where(mask, s, -jnp.inf), axis=-1)
        x = x + dense(p["out_proj"], (w @ heads(v)).transpose(0, 2, 1, 3).reshape(B, T, D))
        h = jax.nn.gelu(dense(p["fc"], layer_norm(p["ln_2"], x)), approximate=True)
        x = x + dense(p["proj"], h)
    logits = layer_norm(params["ln_f"], x) @ params["wte"].T
    return xent(logits.reshape(B * T, V), targets.reshape(B * T)), state


def adamw(lr=1e-3, wd=0.1, b1=0.9, b2=0.999, eps=1e-8):
    """AdamW with decay on the matrices (kernels) only, as nanoGPT's groups."""
    init, adam_update = adam(lr, b1, b2, eps)

    def update(params, grads, slots):
        decayed = jax.tree_util.tree_map_with_path(
            lambda path, p: p * (1 - lr * wd) if "kernel" in jax.tree_util.keystr(path) else p,
            params)
        return adam_update(decayed, grads, slots)

    return init, update


def adam(lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    def init(params):
        # Distinct buffers: donated arguments must not alias.
        zeros = lambda: jax.tree.map(jnp.zeros_like, params)
        return (zeros(), zeros(), jnp.zeros((), jnp.int32))

    def update(params, grads, slots):
        m, v, t = slots
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        bc1 = 1 - b1 ** (t + 1).astype(jnp.float32)
        bc2 = 1 - b2 ** (t + 1).astype(jnp.float32)
        params = jax.tree.map(lambda p, m, v: p - lr * (m / bc1) / (jnp.sqrt(v / bc2) + eps),
                              params, m, v)
        return params, (m, v, t + 1)

    return init, update


def rmsprop(lr, rho=0.95, eps=1e-8, l2=0.0):
    def init(params):
        return jax.tree.map(jnp.zeros_like, params)

    def update(params, grads, s):
        grads = jax.tree.map(lambda g, p: g + l2 * p, grads, params)  # coupled L2
        s = jax.tree.map(lambda s, g: rho * s + (1 - rho) * g * g, s, grads)
        params = jax.tree.map(lambda p, g, s: p - lr * g / (jnp.sqrt(s) + eps), params, grads, s)
        return params, s

    return init, update


def make(model, unroll, batch_size=0):
    key, kx, ky = jax.random.split(jax.random.PRNGKey(0), 3)
    if model == "mlp":
        B = batch_size or 128
        init, loss_fn, opt, state = mlp_init, mlp_loss, adam(1e-3), ()
        batch = (jax.random.uniform(kx, (B, 784)), jax.random.randint(ky, (B,), 0, 10))
    elif model == "cnn":
        B = batch_size or 64
        init, loss_fn, opt, state = cnn_init, cnn_loss, adam(1e-3), ()
        batch = (jax.random.uniform(kx, (B, 1, 28, 28)), jax.random.randint(ky, (B,), 0, 10))
    elif model in GPT:
        cfg = GPT[model]
        B, T, V = cfg[0], cfg[1], cfg[2]
        init, loss_fn, opt, state = partial(gpt_init, cfg=cfg), partial(gpt_loss, cfg=cfg), adamw(), ()
        batch = (jax.random.randint(kx, (B, T), 0, V), jax.random.randint(ky, (B, T), 0, V))
    else:
        init, loss_fn = lstm_init, partial(lstm_loss, unroll=unroll)
        opt = rmsprop(0.1, rho=0.95, eps=1e-8, l2=1e-3)
        state = tuple(jnp.zeros((32, H)) for _ in range(4))
        batch = (jax.random.randint(kx, (32, T), 0, V), jax.random.randint(ky, (32, T), 0, V))
    params = init(key)
    opt_init, opt_update = opt

    @partial(jax.jit, donate_argnums=(0, 1, 2))
    def train_step(params, slots, state, batch):
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, batch)
        params, slots = opt_update(params, grads, slots)
        return params, slots, state, loss

    return train_step, [params, opt_init(params), state], batch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=["mlp", "cnn", "lstm", "gpt"])
    p.add_argument("--gpt2-small", action="store_true", help="gpt: GPT-2 small's shape, vocab 256")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--warmup", type=int, default=10)
    # A rolled scan ran faster here than the full unroll (25, tgc's graph) and
    # compiles in a second rather than 15 s; the peer gets its better variant.
    p.add_argument("--unroll", type=int, default=1, help="lax.scan unroll of the LSTM")
    p.add_argument("--window", type=int, default=25, help="the LSTM's window")
    p.add_argument("--hidden", type=int, default=128, help="the LSTM's units")
    p.add_argument("--batch", type=int, default=0, help="mlp, cnn: batch size (default: the model's)")
    a = p.parse_args()
    global H, T
    H, T = a.hidden, a.window
    print(f"# jax {jax.__version__}, {jax.devices()[0].platform}", flush=True)
    model = ("gpt2-small" if a.gpt2_small else "char") if a.model == "gpt" else a.model
    train_step, carry, batch = make(model, a.unroll, a.batch)
    t0 = time.perf_counter()
    compiled = train_step.lower(*carry, batch).compile()
    compile_s = time.perf_counter() - t0
    times = []
    for s in range(a.warmup + a.steps):
        t = time.perf_counter()
        *carry, loss = compiled(*carry, batch)
        jax.block_until_ready((carry, loss))
        if s >= a.warmup:
            times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    name = f"{a.model} {T}x{H}" if a.model == "lstm" else ("gpt2-small" if model == "gpt2-small" else a.model)
    if a.batch and a.model != "lstm":
        name += f" batch {a.batch}"
    print(f"jax {name}: compile {compile_s:.2f} s, train step median {statistics.median(times):.3f} ms "
          f"(p10 {times[len(times) // 10]:.3f}, p90 {times[len(times) * 9 // 10]:.3f}) "
          f"over {a.steps} steps, final loss {float(loss):.4f}", flush=True)


if __name__ == "__main__":
    main()
