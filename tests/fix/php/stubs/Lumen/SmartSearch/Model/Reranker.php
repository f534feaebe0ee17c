<?php
declare(strict_types=1);

namespace Lumen\SmartSearch\Model;

/** A search module's class: whatever HTTP call it makes happens with it on the call stack. */
class Reranker
{
    public function run(callable $call)
    {
        return $call();
    }
}
