// Shared by every vkft shader. The workgroup size x is specialization constant 0, chosen at run time
// by the pipeline library from the device's limits (runtime/pipeline.c).
layout(local_size_x_id = 0, local_size_y = 1, local_size_z = 1) in;

// Grid-stride loops let a bounded number of workgroups cover any n.
#define GRID_STRIDE (gl_NumWorkGroups.x * gl_WorkGroupSize.x)
