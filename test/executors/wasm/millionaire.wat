;; The millionaires' problem: reads at most 10 bytes from each input slot (argv[1], argv[3]),
;; parses them as decimal numbers and writes the slot name of the larger one to the output
;; slot (argv[5]). Returns the number of bytes written, or -1 when a file call fails.
(module
  (import "env" "teaclave_open_input" (func $open_input (param i32) (result i32)))
  (import "env" "teaclave_create_output" (func $create_output (param i32) (result i32)))
  (import "env" "teaclave_read_file" (func $read_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_write_file" (func $write_file (param i32 i32 i32) (result i32)))
  (import "env" "teaclave_close_file" (func $close_file (param i32) (result i32)))
  (memory (export "memory") 1)

  (func $atoi (param $p i32) (result i32)
    (local $n i32)
    (local $digit i32)
    (block $done
      (loop $next
        (local.set $digit (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
        (br_if $done (i32.ge_u (local.get $digit) (i32.const 10)))
        (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $digit)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $n))

  (func $strlen (param $p i32) (result i32)
    (local $n i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $n))

  ;; Reads at most 10 bytes of slot `name` into `buffer`, NUL-terminated; -1 on failure.
  (func $read_number (param $name i32) (param $buffer i32) (result i32)
    (local $handle i32)
    (local $count i32)
    (local.set $handle (call $open_input (local.get $name)))
    (if (i32.lt_s (local.get $handle) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $count (call $read_file (local.get $handle) (local.get $buffer) (i32.const 10)))
    (drop (call $close_file (local.get $handle)))
    (if (i32.lt_s (local.get $count) (i32.const 0)) (then (return (i32.const -1))))
    (i32.store8 (i32.add (local.get $buffer) (local.get $count)) (i32.const 0))
    (call $atoi (local.get $buffer)))

  (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
    (local $a i32)
    (local $b i32)
    (local $richer i32)
    (local $output i32)
    (local $written i32)
    (local.set $a (call $read_number (i32.load offset=4 (local.get $argv)) (i32.const 1024)))
    (local.set $b (call $read_number (i32.load offset=12 (local.get $argv)) (i32.const 1040)))
    (if (i32.or (i32.lt_s (local.get $a) (i32.const 0)) (i32.lt_s (local.get $b) (i32.const 0)))
      (then (return (i32.const -1))))
    (local.set $richer
      (select
        (i32.load offset=4 (local.get $argv))
        (i32.load offset=12 (local.get $argv))
        (i32.gt_s (local.get $a) (local.get $b))))
    (local.set $output (call $create_output (i32.load offset=20 (local.get $argv))))
    (if (i32.lt_s (local.get $output) (i32.const 0)) (then (return (i32.const -1))))
    (local.set $written
      (call $write_file (local.get $output) (local.get $richer) (call $strlen (local.get $richer))))
    (drop (call $close_file (local.get $output)))
    (local.get $written)))
