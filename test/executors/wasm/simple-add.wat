;; Teaclave's simple_add: returns atoi(argv[1]) + atoi(argv[3]), the values of the two
;; arguments in sorted key order (adder1, adder2).
(module
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

  (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
    (i32.add
      (call $atoi (i32.load offset=4 (local.get $argv)))
      (call $atoi (i32.load offset=12 (local.get $argv))))))
