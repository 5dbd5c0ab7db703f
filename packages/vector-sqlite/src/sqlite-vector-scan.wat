;; The exact float32 scan of the vector cache (see sqlite-vector-scan.ts), in WebAssembly SIMD.
;; Source of sqlite-vector-scan-wasm.ts: after editing, run `pnpm --filter @mem/vector-sqlite run build:wasm`
;; (a test checks that the two agree).
(module
  ;; The cache's vectors live in this memory, given by the caller.
  (import "env" "memory" (memory 1))

  ;; For each of `count` rows of `stride` floats (a multiple of 4) from byte `rows`: the dot product
  ;; with the `stride` floats at byte `query`, stored as a float at byte `out` + 4 * row; with `keep`
  ;; not 0, the larger of it and the float already there. All addresses are multiples of 16.
  (func (export "scores")
    (param $rows i32) (param $query i32) (param $out i32) (param $count i32) (param $stride i32) (param $keep i32)
    (local $row i32) (local $at i32) (local $end i32) (local $j i32) (local $bytes i32) (local $wide i32)
    (local $a v128) (local $b v128) (local $sum f32)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    ;; Bytes the loop of 8 floats (two accumulators) covers; a last group of 4 follows when stride is 4 mod 8.
    (local.set $wide (i32.and (local.get $bytes) (i32.const -32)))
    (local.set $row (local.get $rows))
    (local.set $at (local.get $out))
    (local.set $end (i32.add (local.get $out) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $at) (local.get $end)))
        (local.set $a (v128.const i32x4 0 0 0 0))
        (local.set $b (v128.const i32x4 0 0 0 0))
        (local.set $j (i32.const 0))
        (block $wide_done
          (loop $wide_next
            (br_if $wide_done (i32.ge_u (local.get $j) (local.get $wide)))
            (local.set $a
              (f32x4.add (local.get $a)
                (f32x4.mul
                  (v128.load (i32.add (local.get $row) (local.get $j)))
                  (v128.load (i32.add (local.get $query) (local.get $j))))))
            (local.set $b
              (f32x4.add (local.get $b)
                (f32x4.mul
                  (v128.load offset=16 (i32.add (local.get $row) (local.get $j)))
                  (v128.load offset=16 (i32.add (local.get $query) (local.get $j))))))
            (local.set $j (i32.add (local.get $j) (i32.const 32)))
            (br $wide_next)))
        (if (i32.lt_u (local.get $j) (local.get $bytes))
          (then
            (local.set $a
              (f32x4.add (local.get $a)
                (f32x4.mul
                  (v128.load (i32.add (local.get $row) (local.get $j)))
                  (v128.load (i32.add (local.get $query) (local.get $j))))))))
        (local.set $a (f32x4.add (local.get $a) (local.get $b)))
        (local.set $sum
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
            (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
        (if (local.get $keep)
          (then (local.set $sum (f32.max (local.get $sum) (f32.load (local.get $at))))))
        (f32.store (local.get $at) (local.get $sum))
        (local.set $row (i32.add (local.get $row) (local.get $bytes)))
        (local.set $at (i32.add (local.get $at) (i32.const 4)))
        (br $next))))

  ;; Scales the `stride` floats (a multiple of 4) at byte `row` to length 1; a zero vector stays zero.
  (func (export "normalize") (param $row i32) (param $stride i32)
    (local $j i32) (local $bytes i32) (local $a v128) (local $value v128) (local $sum f32) (local $scale v128)
    (local.set $bytes (i32.shl (local.get $stride) (i32.const 2)))
    (local.set $a (v128.const i32x4 0 0 0 0))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $j) (local.get $bytes)))
        (local.set $value (v128.load (i32.add (local.get $row) (local.get $j))))
        (local.set $a (f32x4.add (local.get $a) (f32x4.mul (local.get $value) (local.get $value))))
        (local.set $j (i32.add (local.get $j) (i32.const 16)))
        (br $next)))
    (local.set $sum
      (f32.add
        (f32.add (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
        (f32.add (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
    (if (f32.gt (local.get $sum) (f32.const 0))
      (then
        (local.set $scale (f32x4.splat (f32.div (f32.const 1) (f32.sqrt (local.get $sum)))))
        (local.set $j (i32.const 0))
        (block $scaled
          (loop $scale_next
            (br_if $scaled (i32.ge_u (local.get $j) (local.get $bytes)))
            (v128.store (i32.add (local.get $row) (local.get $j))
              (f32x4.mul (v128.load (i32.add (local.get $row) (local.get $j))) (local.get $scale)))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))
            (br $scale_next))))))
)
