;; Private set intersection of the lines of two inputs (argv[1], argv[3]): writes every line
;; of the first input that also occurs in the second, then "done\n", to both outputs
;; (argv[5], argv[7]) and returns the number of common lines. Each input may hold up to
;; 64 KiB; -1 means a file call failed.
(module
  (import "env" "teaclave_open_input" (func $open_input (param i32) (result i32)))
  (import "env" "teaclave_create_output" (func $create_output (param i32) (result i32)))
  (import "env" "teaclave_read_file" (func $read_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_write_file" (func $write_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_close_file" (func $close_file (param i32) (result i32)))
  (memory (export "memory") 3)
  (data (i32.const 16) "done\n")
  (data (i32.const 32) "\n")

  ;; Reads all of slot `name` into `buffer` (at most 65536 bytes); returns its length or -1.
  (func $read_all (param $name i32) (param $buffer i32) (result i32)
    (local $handle i32)
    (local $length i32)
    (local $count i32)
    (local.set $handle (call $open_input (local.get $name)))
    (if (i32.lt_s (local.get $handle) (i32.const 0)) (then (return (i32.const -1))))
    (block $done
      (loop $next
        (local.set $count
          (call $read_file
            (local.get $handle)
            (i32.add (local.get $buffer) (local.get $length))
            (i32.sub (i32.const 65536) (local.get $length))))
        (br_if $done (i32.le_s (local.get $count) (i32.const 0)))
        (local.set $length (i32.add (local.get $length) (local.get $count)))
        (br $next)))
    (drop (call $close_file (local.get $handle)))
    (select (i32.const -1) (local.get $length) (i32.lt_s (local.get $count) (i32.const 0))))

  ;; Returns the offset of the next newline at or after `start`, or `end`.
  (func $line_end (param $start i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $start) (local.get $end)))
        (br_if $done (i32.eq (i32.load8_u (local.get $start)) (i32.const 10)))
        (local.set $start (i32.add (local.get $start) (i32.const 1)))
        (br $next)))
    (local.get $start))

  (func $equal (param $a i32) (param $b i32) (param $length i32) (result i32)
    (local $i i32)
    (block $differ
      (loop $next
        (if (i32.ge_u (local.get $i) (local.get $length)) (then (return (i32.const 1))))
        (br_if $differ
          (i32.ne
            (i32.load8_u (i32.add (local.get $a) (local.get $i)))
            (i32.load8_u (i32.add (local.get $b) (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  ;; Tells whether the line [start, start + length) occurs as a whole line in [b, b_end).
  (func $contains (param $start i32) (param $length i32) (param $b i32) (param $b_end i32) (result i32)
    (local $end i32)
    (block $absent
      (loop $next
        (br_if $absent (i32.ge_u (local.get $b) (local.get $b_end)))
        (local.set $end (call $line_end (local.get $b) (local.get $b_end)))
        (if
          (i32.and
            (i32.eq (i32.sub (local.get $end) (local.get $b)) (local.get $length))
            (call $equal (local.get $start) (local.get $b) (local.get $length)))
          (then (return (i32.const 1))))
        (local.set $b (i32.add (local.get $end) (i32.const 1)))
        (br $next)))
    (i32.const 0))

  (func $write_both (param $out1 i32) (param $out2 i32) (param $pointer i32) (param $length i32)
    (drop (call $write_file (local.get $out1) (local.get $pointer) (local.get $length)))
    (drop (call $write_file (local.get $out2) (local.get $pointer) (local.get $length))))

  (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
    (local $a_length i32)
    (local $b_length i32)
    (local $out1 i32)
    (local $out2 i32)
    (local $start i32)
    (local $end i32)
    (local $a_end i32)
    (local $count i32)
    (local.set $a_length (call $read_all (i32.load offset=4 (local.get $argv)) (i32.const 65536)))
    (local.set $b_length (call $read_all (i32.load offset=12 (local.get $argv)) (i32.const 131072)))
    (if (i32.or (i32.lt_s (local.get $a_length) (i32.const 0)) (i32.lt_s (local.get $b_length) (i32.const 0)))
      (then (return (i32.const -1))))
    (local.set $out1 (call $create_output (i32.load offset=20 (local.get $argv))))
    (local.set $out2 (call $create_output (i32.load offset=28 (local.get $argv))))
    (if (i32.or (i32.lt_s (local.get $out1) (i32.const 0)) (i32.lt_s (local.get $out2) (i32.const 0)))
      (then (return (i32.const -1))))
    (local.set $start (i32.const 65536))
    (local.set $a_end (i32.add (i32.const 65536) (local.get $a_length)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $start) (local.get $a_end)))
        (local.set $end (call $line_end (local.get $start) (local.get $a_end)))
        (if
          (i32.and
            (i32.gt_u (local.get $end) (local.get $start))
            (call $contains
              (local.get $start)
              (i32.sub (local.get $end) (local.get $start))
              (i32.const 131072)
              (i32.add (i32.const 131072) (local.get $b_length))))
          (then
            (call $write_both (local.get $out1) (local.get $out2)
              (local.get $start) (i32.sub (local.get $end) (local.get $start)))
            (call $write_both (local.get $out1) (local.get $out2) (i32.const 32) (i32.const 1))
            (local.set $count (i32.add (local.get $count) (i32.const 1)))))
        (local.set $start (i32.add (local.get $end) (i32.const 1)))
        (br $next)))
    (call $write_both (local.get $out1) (local.get $out2) (i32.const 16) (i32.const 5))
    (drop (call $close_file (local.get $out1)))
    (drop (call $close_file (local.get $out2)))
    (local.get $count)))
