#version 450
// The optimizer step and the global gradient norm, over contiguous fp32 buffers.
//   norm_partial: partial[wg] = sum of g^2 over the elements workgroup wg visits (the launcher binds the
//                 slice of buffer `slot` of the group); workgroup 0 zeroes the slots of the slice beyond
//                 the workgroups launched
//   norm_final:   one workgroup: norm[0] = sqrt(sum of the `count` partials, in order);
//                 norm[1] = min(1, max_norm / (norm[0] + 1e-6)) when max_norm > 0, else 1 (the clip
//                 coefficient of torch.nn.utils.clip_grad_norm_)
//   clip:         g *= norm[1]   (the coefficient is read on the GPU: no CPU round trip)
//   adamw:        torch.optim.AdamW's step (decoupled weight decay, bias correction), with g scaled by
//                 norm[1] when use_clip is set:
//                   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//                   p -= step_size * m / (sqrt(v) / sqrt_bc2 + eps),  step_size = lr / (1 - b1^t),
//                   sqrt_bc2 = sqrt(1 - b2^t)   (computed in double by the launcher from the step t)
// The *_vec4 variants move 4 elements per load (n % 4 == 0, 16-byte aligned buffers; ~2x on lavapipe).
//@variant norm_partial -DPASS=0 -DVEC=1
//@variant norm_partial_vec4 -DPASS=0 -DVEC=4
//@variant norm_final -DPASS=1 -DVEC=1
//@variant clip -DPASS=2 -DVEC=1
//@variant clip_vec4 -DPASS=2 -DVEC=4
//@variant adamw -DPASS=3 -DVEC=1
//@variant adamw_vec4 -DPASS=3 -DVEC=4
// adamw_hp*: the hyperparameters come from a buffer (binding 5: lr, beta1, beta2, eps, weight_decay,
// step_size, sqrt_bc2), so that one recorded command buffer serves every step (the host rewrites 7 floats).
//@variant adamw_hp -DPASS=3 -DVEC=1 -DHP_BUFFER=1
//@variant adamw_hp_vec4 -DPASS=3 -DVEC=4 -DHP_BUFFER=1
#include "vkft.glsl"
#include "rows.glsl"

#if VEC == 4
#define VT vec4
#else
#define VT float
#endif

layout(push_constant) uniform Push {
    uint n;     // elements (norm_partial, clip, adamw) or partials (norm_final)
    uint slot;  // norm_partial: which buffer of the group this is (informational)
    uint step;  // adamw: the step number t (1-based), for reference; the corrections come precomputed
    uint use_clip;
    float lr, beta1, beta2, eps, weight_decay, step_size, sqrt_bc2;
    float max_norm;
} p;

#if PASS == 0
layout(binding = 0) readonly buffer G { VT g[]; };
layout(binding = 1) writeonly buffer Partial { float partial[]; };
#elif PASS == 1
layout(binding = 0) readonly buffer Partial { float partial[]; };
layout(binding = 1) writeonly buffer Norm { float norm[]; };
#elif PASS == 2
layout(binding = 0) readonly buffer Norm { float norm[]; };
layout(binding = 1) buffer G { VT g[]; };
#else
layout(binding = 0) readonly buffer Norm { float norm[]; };
layout(binding = 1) readonly buffer G { VT g[]; };
layout(binding = 2) buffer P { VT param[]; };
layout(binding = 3) buffer M { VT m[]; };
layout(binding = 4) buffer V { VT v[]; };
#ifdef HP_BUFFER
layout(binding = 5) readonly buffer Hp { float hp[]; };
#define LR hp[0]
#define BETA1 hp[1]
#define BETA2 hp[2]
#define EPS hp[3]
#define WEIGHT_DECAY hp[4]
#define STEP_SIZE hp[5]
#define SQRT_BC2 hp[6]
#else
#define LR p.lr
#define BETA1 p.beta1
#define BETA2 p.beta2
#define EPS p.eps
#define WEIGHT_DECAY p.weight_decay
#define STEP_SIZE p.step_size
#define SQRT_BC2 p.sqrt_bc2
#endif
#endif

void main() {
#if PASS == 0
    float s = 0.0;
    for (uint i = gl_GlobalInvocationID.x; i < p.n / VEC; i += GRID_STRIDE) s += dot(g[i], g[i]);
    s = wg_sum(s);
    if (gl_LocalInvocationID.x == 0) partial[gl_WorkGroupID.x] = s;
    if (gl_WorkGroupID.x == 0)
        for (uint j = gl_NumWorkGroups.x + gl_LocalInvocationID.x; j < uint(partial.length()); j += gl_WorkGroupSize.x)
            partial[j] = 0.0;
#elif PASS == 1
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.n; i += gl_WorkGroupSize.x) s += partial[i];
    float total = sqrt(wg_sum(s));
    if (gl_LocalInvocationID.x == 0) {
        norm[0] = total;
        norm[1] = p.max_norm > 0.0 ? min(1.0, p.max_norm / (total + 1e-6)) : 1.0;
    }
#elif PASS == 2
    float coef = norm[1];
    for (uint i = gl_GlobalInvocationID.x; i < p.n / VEC; i += GRID_STRIDE) g[i] *= coef;
#else
    float coef = p.use_clip != 0 ? norm[1] : 1.0;
    float lr = LR, beta1 = BETA1, beta2 = BETA2, eps = EPS, step_size = STEP_SIZE, sqrt_bc2 = SQRT_BC2;
    float decay = 1.0 - lr * WEIGHT_DECAY;
    for (uint i = gl_GlobalInvocationID.x; i < p.n / VEC; i += GRID_STRIDE) {
        VT gi = g[i] * coef;
        VT mi = beta1 * m[i] + (1.0 - beta1) * gi;
        VT vi = beta2 * v[i] + (1.0 - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        param[i] = param[i] * decay - step_size * mi / (sqrt(vi) / sqrt_bc2 + eps);
    }
#endif
}
