// SPDX-License-Identifier: GPL-3.0-or-later
// What the C side and the shaders must agree on, written once and
// included by both: the push-constant block of every kernel, the default
// tile sizes the conv kernels take as specialization constants, and the
// header of the frame buffer.
//
// A shader selects its block by defining HD_PUSH_<NAME> before the
// include (GLSL allows one push-constant block per shader); C sees every
// block as a struct, checked against the 128 bytes Vulkan guarantees.
// Offsets count floats, so one buffer can hold many tensors.
#ifndef HD_PUSH_H
#define HD_PUSH_H

#define HD_PUSH_BYTES 128

#ifdef VULKAN
#define HD_PUSH_BEGIN(Name) layout (push_constant) uniform Name {
#define HD_PUSH_END(Name) } pc;
#define HD_U32 uint
#define HD_F32 float
#define HD_ALL_PUSH 0
#else
#include <stdint.h>
#define HD_PUSH_BEGIN(Name) typedef struct {
#define HD_PUSH_END(Name) } Name; \
  _Static_assert (sizeof (Name) <= HD_PUSH_BYTES, #Name " does not fit the push constants");
#define HD_U32 uint32_t
#define HD_F32 float
#define HD_ALL_PUSH 1
#endif

// The frame buffer starts with this header (written by the host before
// every frame), then z, w and the blended domain vector.
#define HD_FRAME_PSI    0
#define HD_FRAME_CUTOFF 1   // int bits; < 0 truncates every w
#define HD_FRAME_STYLE  2   // int bits; 1: mix the style latents at style_off
#define HD_FRAME_HEADER 4   // floats

// Tile sizes, passed to the conv kernels as specialization constants
// (constant_id 0, 1, ... in the order listed in each shader).
// conv.comp (tiled GEMM through shared memory):
#define HD_TILED_TILE_CO  64   // output channels per workgroup
#define HD_TILED_TILE_H   8
#define HD_TILED_TILE_W   8
#define HD_TILED_CI_CHUNK 8    // input channels per shared-memory stage
#define HD_TILED_PX_PT    4    // pixels per invocation along a row
#define HD_TILED_CO_PT    4    // channels per invocation
#define HD_TILED_WG_SIZE(tile_co, tile_h, tile_w, px_pt) \
  (((tile_co) / HD_TILED_CO_PT) * ((tile_w) / (px_pt)) * (tile_h))
// conv_cpu.comp and tconv_cpu.comp (a subgroup as one SIMD register):
#define HD_LANES_SG       8    // lanes: output channels per subgroup
#define HD_LANES_NSG      4    // subgroups per workgroup
#define HD_LANES_TILE_P   8    // conv_cpu: output rows per tile
#define HD_LANES_TILE_Q   8    // ... and columns
#define HD_LANES_SMALL    4    // conv_cpu on 4x4 inputs: 4x4 tiles
#define HD_TCONV_TILE_P   4    // tconv_cpu: input rows per tile
#define HD_TCONV_TILE_Q   8    // ... and columns (4x8 ~20% faster than 4x4)

#if HD_ALL_PUSH || defined (HD_PUSH_MAP_NORM)
HD_PUSH_BEGIN (HdMapNormPush)
  HD_U32 z_dim;
  HD_U32 z_off;          // in frame
  HD_U32 out_off;        // in latent
HD_PUSH_END (HdMapNormPush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_MAP_FC)
HD_PUSH_BEGIN (HdMapFcPush)
  HD_U32 in_features;
  HD_U32 out_features;
  HD_U32 weight_off;     // in mapping: [in][out]
  HD_U32 bias_off;       // in mapping: [out]
  HD_U32 in_off;         // in latent
  HD_U32 out_off;        // in latent
HD_PUSH_END (HdMapFcPush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_TRUNCATE)
HD_PUSH_BEGIN (HdTruncatePush)
  HD_U32 w_dim;
  HD_U32 num_ws;
  HD_U32 from_frame;     // 1: source in frame (W latent), 0: in latent
  HD_U32 src_off;
  HD_U32 src_stride;     // 0 broadcasts one w
  HD_U32 avg_off;        // w_avg in mapping
  HD_U32 ws_off;         // output in latent
  HD_U32 style_off;      // in frame: alpha[num_ws], then sum[num_ws][w_dim]
HD_PUSH_END (HdTruncatePush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_STYLES)
HD_PUSH_BEGIN (HdStylesPush)
  HD_U32 rows;
  HD_U32 w_dim;
  HD_U32 weight_off;     // [w_dim][rows] floats
  HD_U32 bias_off;       // [rows] floats
  HD_U32 windex_off;     // [rows] uints
  HD_U32 ws_off;         // in latent
HD_PUSH_END (HdStylesPush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_DCOEF)
HD_PUSH_BEGIN (HdDcoefPush)
  HD_U32 rows;
  HD_U32 meta_off;       // in affine: [rows] uvec4 (wsq offset of o, c_out, c_in, style offset)
HD_PUSH_END (HdDcoefPush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_SCALES)
HD_PUSH_BEGIN (HdScalesPush)
  HD_U32 n;
  HD_U32 domain_off;     // in frame
HD_PUSH_END (HdScalesPush)
#endif

#if HD_ALL_PUSH || defined (HD_PUSH_TORGB)
HD_PUSH_BEGIN (HdTorgbPush)
  HD_U32 c_in;
  HD_U32 res;
  HD_U32 channels;       // 1..4
  HD_U32 style_off;
  HD_U32 weight_off;     // in misc: [channels][c_in]
  HD_U32 bias_off;       // in misc: [channels]
  HD_U32 has_prev;       // 0 for the first block
  HD_U32 has_clamp;
  HD_F32 clamp_val;
  HD_U32 row0;           // this dispatch's first row (bands of the last block)
  HD_U32 act_rows;       // rows of each channel in act, from row row0
HD_PUSH_END (HdTorgbPush)
#endif

// Every conv kernel (conv, conv_cpu, tconv_cpu).
#if HD_ALL_PUSH || defined (HD_PUSH_CONV)
HD_PUSH_BEGIN (HdConvPush)
  HD_U32 c_in;
  HD_U32 n_virtual;      // c_out, or 4 c_out for the polyphase up conv
  HD_U32 in_res;
  HD_U32 scale_off;      // this conv's s (1 + d) in scale
  HD_U32 dcoef_off;
  HD_U32 bias_off;       // in misc
  HD_U32 noise_off;      // in noise; this conv's [res][res] image
  HD_U32 noise_on;
  HD_F32 noise_strength;
  HD_U32 has_clamp;
  HD_F32 clamp_val;
  HD_U32 out_row0;       // the output buffer holds out_rows rows per channel
  HD_U32 out_rows;       // from output row out_row0 (a band; not up convs)
HD_PUSH_END (HdConvPush)
#endif

// The text encoder and the mapper (hd-text-gpu.c).  Offsets count
// elements of the activation buffer (f32), the weights (f16 texels) or
// the parameters (f32 texels); HD_TEXT_NONE marks an unused one.
#define HD_TEXT_NONE 0xffffffffu
#define HD_TEXT_ACT_NONE      0u
#define HD_TEXT_ACT_RELU      1u
#define HD_TEXT_ACT_LRELU     2u
#define HD_TEXT_ACT_PRELU     3u   // slope: params[act_param_off]
#define HD_TEXT_ACT_QUICKGELU 4u
// The backward of QuickGELU: v = (acc + bias) · QuickGELU′ (z), z read at
// aux_off + m * y_stride + n (what the forward kept there).
#define HD_TEXT_ACT_QUICKGELU_BWD 5u
#define HD_TEXT_GEMM_ROWS     16   // rows of X per workgroup (specialization constant 0)

// Y[m, n] = epilogue (Σ_k X[m, k] W[k, n] + bias[n]) for m < M, n < N,
// with W stored transposed ([K][N], f16):
//   v = acc + bias; v = v * pre_scale + pre_shift (a BatchNorm folded);
//   v += act[res_off + m * y_stride + n] (a residual, may be Y itself);
//   v = act (v); v = v * post_scale + post_shift;
// with aux_off, the value before the activation also goes to
// act[aux_off + m * y_stride + n] (what its backward needs), or, with
// HD_TEXT_ACT_QUICKGELU_BWD, is read from there.
#if HD_ALL_PUSH || defined (HD_PUSH_TEXT_GEMM)
HD_PUSH_BEGIN (HdTextGemmPush)
  HD_U32 m;
  HD_U32 n;
  HD_U32 k;
  HD_U32 x_off;
  HD_U32 x_stride;
  HD_U32 y_off;
  HD_U32 y_stride;
  HD_U32 w_off;
  HD_U32 bias_off;
  HD_U32 pre_scale_off;
  HD_U32 pre_shift_off;
  HD_U32 post_scale_off;
  HD_U32 post_shift_off;
  HD_U32 act;
  HD_U32 act_param_off;
  HD_U32 res_off;
  HD_U32 aux_off;
  HD_U32 x_kstride;      // X[m, k] at x_off + m * x_stride + k * x_kstride (1: rows)
HD_PUSH_END (HdTextGemmPush)
#endif

// Y[r] = LN (X[r]) over n features for r < rows (weight, bias in params).
#if HD_ALL_PUSH || defined (HD_PUSH_TEXT_NORM)
HD_PUSH_BEGIN (HdTextNormPush)
  HD_U32 rows;
  HD_U32 n;
  HD_U32 x_off;
  HD_U32 y_off;
  HD_U32 stride;
  HD_U32 weight_off;
  HD_U32 bias_off;
  HD_U32 unit;           // 1: instead of LN, y = x / ‖x‖₂ (one row)
HD_PUSH_END (HdTextNormPush)
#endif

// Multi-head attention over rows 0..rows-1 of [q | k | v], causal or not.
#if HD_ALL_PUSH || defined (HD_PUSH_TEXT_ATTENTION)
HD_PUSH_BEGIN (HdTextAttentionPush)
  HD_U32 rows;
  HD_U32 width;
  HD_U32 heads;
  HD_U32 qkv_off;        // [rows][3 width]
  HD_U32 out_off;        // [rows][width]
  HD_U32 causal;         // 1: row i attends to rows 0..i (text); 0: to all
HD_PUSH_END (HdTextAttentionPush)
#endif
// (Workgroup row y is sequence y: its rows start rows x 3 width floats
// after the previous one's in qkv, rows x width in out.)

// Image channels to ViT patch rows and back (tower_patches): channel c
// of image i, [n][n] at planes_off + (i * 3 + c) n², and the rows of its
// patches, [rows][3 p²] at rows_off + i rows 3 p², row 1 + a g + b being
// patch (a, b) in conv1's [c][y][x] order (row 0, the class token's, is
// not touched).  Pass 0: planes to rows; 1: rows to planes.
#if HD_ALL_PUSH || defined (HD_PUSH_TOWER_PATCHES)
HD_PUSH_BEGIN (HdTowerPatchesPush)
  HD_U32 images;
  HD_U32 grid;
  HD_U32 patch_size;
  HD_U32 planes_off;
  HD_U32 rows_off;
  HD_U32 pass;
HD_PUSH_END (HdTowerPatchesPush)
#endif

// The backward of a layer norm (tower_norm_bwd): for r < rows,
// dx[r] (=, or += with add) ∂/∂x of Σ dy[r] · LN (x[r]) over n features.
#if HD_ALL_PUSH || defined (HD_PUSH_TOWER_NORM_BWD)
HD_PUSH_BEGIN (HdTowerNormBwdPush)
  HD_U32 rows;
  HD_U32 n;
  HD_U32 x_off;
  HD_U32 x_stride;
  HD_U32 dy_off;
  HD_U32 dy_stride;
  HD_U32 dx_off;
  HD_U32 dx_stride;
  HD_U32 weight_off;     // the norm's weight (params)
  HD_U32 add;
HD_PUSH_END (HdTowerNormBwdPush)
#endif

// The backward of full (not causal) multi-head attention
// (tower_attention_bwd), for sequences of rows rows (workgroup row y is
// sequence y): from q, k, v ([rows][3 width]), the output o
// ([rows][width]) and its gradient do ([rows][width]), the gradient of
// q, k and v into dqkv ([rows][3 width]).  Pass 0: dq, and per (row,
// head) the softmax's max, sum and D = do · o into stats ([heads][rows][3]);
// pass 1: dk and dv from them.
#if HD_ALL_PUSH || defined (HD_PUSH_TOWER_ATTENTION_BWD)
HD_PUSH_BEGIN (HdTowerAttentionBwdPush)
  HD_U32 rows;
  HD_U32 width;
  HD_U32 heads;
  HD_U32 qkv_off;
  HD_U32 o_off;
  HD_U32 do_off;
  HD_U32 dqkv_off;
  HD_U32 stats_off;
  HD_U32 pass;
HD_PUSH_END (HdTowerAttentionBwdPush)
#endif

// Training a domain (hd-train-gpu.c): one push block for every kernel of
// the synthesis forward pass that keeps what the backward needs, and of
// that backward with respect to the domain.  Buffers (train-common.glsl):
// 0 the weights, 1 per-render values (scales, dcoef, ToRGB styles,
// noise), 2 and 6 activations read, 5 activations written, 3 gradients
// read, 7 gradients written, 4 host-visible results.  Regions are
// [sample][...]; a
// kernel's sample index is gl_GlobalInvocationID.z, a render's is
// sample0 + that (the frozen renders first, then the trainable ones).
#define HD_TRAIN_CLAMP      1u   // clamp to ±clamp
#define HD_TRAIN_ADD        2u   // torgb: add the up-sampled image at aux; torgb_bwd: add into out
#define HD_TRAIN_TO_OUT     4u   // torgb: the image goes to buffer 4; bwd, down: the skip gradient is read there
#if HD_ALL_PUSH || defined (HD_PUSH_TRAIN)
HD_PUSH_BEGIN (HdTrainPush)
  HD_U32 x_off;          // the input: activations (forward), gradients (backward)
  HD_U32 x_stride;
  HD_U32 x2_off;         // a second input (torgb: the previous image, activations)
  HD_U32 x2_stride;
  HD_U32 w_off;          // weights, [c_out][c_in][9] or [c_out][c_in]
  HD_U32 b_off;          // bias [c_out]; dsum: where its sums go in buffer 4
  HD_U32 s_off;          // per render: scales, ToRGB styles [c_in]
  HD_U32 dc_off;         // per render: dcoef [c_out]
  HD_U32 n_off;          // per render: noise [res²]
  HD_U32 s_stride;       // the per-render values' stride
  HD_U32 out_off;
  HD_U32 out_stride;
  HD_U32 aux_off;        // ToRGB's pre-clamp values; backward: a conv's output, dsum's input
  HD_U32 aux_stride;
  HD_U32 c_in;
  HD_U32 c_out;
  HD_U32 in_res;
  HD_U32 res;
  HD_U32 flags;
  HD_U32 sample0;
  HD_U32 n;              // dsum: the stride of its sums per sample
  HD_F32 noise_strength;
  HD_F32 clamp;
HD_PUSH_END (HdTrainPush)
#endif

// Adam on the domain (train_adam, §6 of domain-training.md) in the
// host-visible buffer (binding 4): d, m, v and the gradient g, n floats
// each from off, then the step's lr / (1 − β1^t) and √(1 − β2^t), 1 − β1
// and 1 − β2.
#if HD_ALL_PUSH || defined (HD_PUSH_TRAIN_ADAM)
HD_PUSH_BEGIN (HdTrainAdamPush)
  HD_U32 n;
  HD_U32 off;
HD_PUSH_END (HdTrainAdamPush)
#endif

#endif
