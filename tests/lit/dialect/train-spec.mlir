// RUN: tg-opt %s --split-input-file --verify-diagnostics | FileCheck %s
// The tg.train module attribute: a valid spec round-trips, every field is checked.

// CHECK: module attributes {tg.train = {function = "f", loss = "loss", optimizer = {clip_norm = 1.000000e+00 : f64, eps = 1.000000e-08 : f64, kind = "rmsprop", l2 = 1.000000e-03 : f64, lr = 1.000000e-01 : f64, rho = 0.94999999999999996 : f64, schedule = {decay_steps = 100 : i64, kind = "cosine", warmup_steps = 10 : i64}}}}
module attributes {tg.train = {function = "f", loss = "loss", optimizer = {kind = "rmsprop", lr = 0.1 : f64, rho = 0.95 : f64, eps = 1.0e-8 : f64, l2 = 1.0e-3 : f64, clip_norm = 1.0 : f64, schedule = {kind = "cosine", decay_steps = 100, warmup_steps = 10}}}} {
}

// -----

// expected-error @+1 {{tg.train must be a dictionary {function, loss, optimizer}}}
module attributes {tg.train = 1} {
}

// -----

// expected-error @+1 {{tg.train: missing 'optimizer' (e.g. {kind = "sgd", lr = 0.01})}}
module attributes {tg.train = {loss = "loss"}} {
}

// -----

// expected-error @+1 {{tg.train: unknown field 'optimiser'}}
module attributes {tg.train = {optimiser = {kind = "sgd"}}} {
}

// -----

// expected-error @+1 {{tg.train: 'loss' must be a string, got 3}}
module attributes {tg.train = {loss = 3, optimizer = {kind = "sgd"}}} {
}

// -----

// expected-error @+1 {{tg.train: 'optimizer' must be a dictionary}}
module attributes {tg.train = {optimizer = "sgd"}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: unknown kind "adagrad" (expected one of sgd momentum nesterov rmsprop adam adamw)}}
module attributes {tg.train = {optimizer = {kind = "adagrad"}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'lr' must be > 0, got -0.1}}
module attributes {tg.train = {optimizer = {kind = "sgd", lr = -0.1}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'lr' must be a number, got "fast"}}
module attributes {tg.train = {optimizer = {kind = "sgd", lr = "fast"}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'momentum' must be >= 0 and < 1, got 1}}
module attributes {tg.train = {optimizer = {kind = "momentum", momentum = 1.0}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'beta2' must be >= 0 and < 1, got 1.5}}
module attributes {tg.train = {optimizer = {kind = "adam", beta2 = 1.5}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'eps' must be > 0, got 0}}
module attributes {tg.train = {optimizer = {kind = "adam", eps = 0.0}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'l2' must be >= 0, got -1}}
module attributes {tg.train = {optimizer = {kind = "sgd", l2 = -1.0}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'weight_decay' must be >= 0, got nan}}
module attributes {tg.train = {optimizer = {kind = "adamw", weight_decay = 0x7FF8000000000000 : f64}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'clip_norm' must be >= 0, got -2}}
module attributes {tg.train = {optimizer = {kind = "sgd", clip_norm = -2.0}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: unknown field 'decay'}}
module attributes {tg.train = {optimizer = {kind = "sgd", decay = 0.5}}} {
}

// -----

// expected-error @+1 {{tg.train optimizer: 'schedule' must be a dictionary like {kind = "cosine", decay_steps = 1000}}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = "cosine"}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: unknown kind "linear" (expected one of constant step exponential cosine)}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "linear"}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: 'step_size' must be >= 1, got -3}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "step", step_size = -3, gamma = 0.5}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: "step" needs step_size >= 1}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "step"}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: "cosine" needs decay_steps >= 1}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "cosine"}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: 'decay_steps' must be an integer, got 1.000000e+01 : f64}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "exponential", decay_steps = 10.0 : f64}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: 'gamma' must be > 0, got 0}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "exponential", decay_steps = 10, gamma = 0.0}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: 'alpha' must be >= 0 and <= 1, got 2}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "cosine", decay_steps = 10, alpha = 2.0}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: 'warmup_steps' must be >= 0, got -5}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {warmup_steps = -5}}}} {
}

// -----

// expected-error @+1 {{tg.train schedule: unknown field 'steps'}}
module attributes {tg.train = {optimizer = {kind = "sgd", schedule = {kind = "constant", steps = 4}}}} {
}
