<?php
declare(strict_types=1);

namespace Lumen\Copywriter\Model;

/** A content module under the vendor-wide `Lumen\` prefix only. */
class Writer
{
    public function run(callable $call)
    {
        return $call();
    }
}
