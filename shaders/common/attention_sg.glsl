// Shared by the subgroup-shaped attention kernels (attention_sg_*.comp): one workgroup is one subgroup
// of SG lanes (specialization constant 0 = the subgroup size), shaped like the lavapipe matmul
// (shaders/matmul.comp): the rows a workgroup owns are read at subgroup-uniform addresses (one scalar
// load each on lavapipe), the rows it streams through are spread one per lane and read as 4-wide vectors,
// and values move between lanes with subgroupBroadcast / subgroupMax / subgroupAdd. No shared memory, no
// barriers. Head-dim vectors held per lane are split into NG groups of 4 columns, lane-interleaved:
// columns g*4*SG + lane*4 + {0..3}; so D must be a multiple of 4*SG (the launcher checks). Each step
// streams SG*TN rows, TN per lane (row tn*SG + lane): every uniform load then feeds TN lanes' worth of
// multiply-adds, as in the matmul's register block. The loops over the SG lanes whose values are
// broadcast stay rolled (subgroupBroadcast with a dynamically uniform lane, SPIR-V 1.5+): unrolled, LLVM
// took 5-12x longer to compile them on lavapipe (minutes at D=128) and the kernels ran 1.3-1.5x slower.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_ballot : require
#extension GL_EXT_control_flow_attributes : require
#include "attention.glsl"

layout(constant_id = 3) const uint TM = 8; // rows a workgroup owns (queries, or keys in dK/dV)
layout(constant_id = 4) const uint TN = 4; // streamed rows per lane per step (keys, or queries in dK/dV)

#define SG gl_WorkGroupSize.x
#define NG (D / (4u * SG))
#define D4 (D / 4u)
