# heed as a hostile user tries it: outputs that are devices, FIFOs or links; the input as the
# output; model paths that never end; numbers nobody checks; invisible lines; long lines.
# -DHEED, -DMAKE_MODEL, -DDATA_DIR, -DWORK_DIR, -DSANITIZED (ON in an ASan build). Needs mkfifo (coreutils).
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${MAKE_MODEL} ${WORK_DIR}/tiny.heed ${DATA_DIR} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "make_test_model exited ${rc}")
endif()
set(model ${WORK_DIR}/tiny.heed)

function(run name)
  execute_process(COMMAND ${ARGN} OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc TIMEOUT 60)
  set(${name}_out "${out}" PARENT_SCOPE)
  set(${name}_err "${err}" PARENT_SCOPE)
  set(${name}_rc "${rc}" PARENT_SCOPE)
endfunction()
function(expect_failure name pattern)
  if(${name}_rc EQUAL 0 OR NOT "${${name}_err}" MATCHES "${pattern}")
    message(FATAL_ERROR "${name}: expected a failure matching '${pattern}': exit ${${name}_rc}\nstdout: ${${name}_out}\nstderr: ${${name}_err}")
  endif()
endfunction()

# 1. Saving never turns a device, FIFO or link into a regular file.
if(EXISTS /dev/full)
  run(full ${HEED} convert -m ${model} -o /dev/full --precision f16)
  expect_failure(full "cannot save /dev/full: it is a character device")
endif()
execute_process(COMMAND mkfifo ${WORK_DIR}/fifo RESULT_VARIABLE rc)
run(fifo ${HEED} convert -m ${model} -o ${WORK_DIR}/fifo --precision f16)
expect_failure(fifo "it is a FIFO")
run(is_fifo test -p ${WORK_DIR}/fifo)
if(NOT is_fifo_rc EQUAL 0)
  message(FATAL_ERROR "heed convert -o FIFO replaced the FIFO")
endif()
file(COPY_FILE ${model} ${WORK_DIR}/linked.heed)
file(CREATE_LINK linked.heed ${WORK_DIR}/link.heed SYMBOLIC)
run(link ${HEED} -q convert -m ${model} -o ${WORK_DIR}/link.heed --precision f16)
if(NOT link_rc EQUAL 0 OR NOT IS_SYMLINK ${WORK_DIR}/link.heed)
  message(FATAL_ERROR "heed convert -o LINK: exit ${link_rc}, the link is gone\n${link_err}")
endif()
run(converted ${HEED} -q info ${WORK_DIR}/link.heed)
if(NOT converted_out MATCHES "weights stored as f16")
  message(FATAL_ERROR "heed convert -o LINK did not replace the file the link names:\n${converted_out}")
endif()

# 2. The output is never the input, by any path.
file(WRITE ${WORK_DIR}/text.txt "A dog runs.\n")
file(CREATE_LINK text.txt ${WORK_DIR}/text-link.txt SYMBOLIC)
foreach(output ${WORK_DIR}/text.txt ${WORK_DIR}/text-link.txt ${WORK_DIR}/./text.txt)
  run(same ${HEED} translate -m ${model} -i ${WORK_DIR}/text.txt -o ${output})
  expect_failure(same "is the input .*text.txt \\(-i\\)")
  file(READ ${WORK_DIR}/text.txt text)
  if(NOT text STREQUAL "A dog runs.\n")
    message(FATAL_ERROR "heed translate -o ${output} changed its input to '${text}'")
  endif()
endforeach()

# Nor one of the other inputs: the sides of `align`, any model read, a vocabulary's corpus.
file(WRITE ${WORK_DIR}/s.en "A dog runs.\n")
file(WRITE ${WORK_DIR}/s.de "Ein Hund rennt.\n")
file(CREATE_LINK s.de ${WORK_DIR}/s-link.de SYMBOLIC)
file(COPY_FILE ${model} ${WORK_DIR}/kept.heed)
file(SHA256 ${WORK_DIR}/kept.heed kept_before)
file(WRITE ${WORK_DIR}/corpus.model "A dog runs.\nTwo dogs run.\n")
set(cases
  "align_src|--src|${HEED} align -m ${model} --src ${WORK_DIR}/s.en --tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/s.en"
  "align_tgt|--tgt|${HEED} align -m ${model} --src ${WORK_DIR}/s.en --tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/./s.de"
  "align_link|--tgt|${HEED} align -m ${model} --src ${WORK_DIR}/s.en --tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/s-link.de"
  "align_model|-m|${HEED} align -m ${WORK_DIR}/kept.heed --src ${WORK_DIR}/s.en --tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/kept.heed"
  "translate_model|-m|${HEED} translate -m ${WORK_DIR}/kept.heed -i ${WORK_DIR}/s.en -o ${WORK_DIR}/kept.heed"
  "convert_model|-m|${HEED} convert -m ${WORK_DIR}/kept.heed -o ${WORK_DIR}/kept.heed --precision int8"
  "average_model|models|${HEED} average ${model} ${WORK_DIR}/kept.heed -o ${WORK_DIR}/kept.heed"
  "vocab_corpus|-i|${HEED} vocab -i ${WORK_DIR}/corpus.model -o ${WORK_DIR}/corpus --size 20")
foreach(case ${cases})
  string(REPLACE "|" ";" parts "${case}")
  list(GET parts 0 name)
  list(GET parts 1 option)
  list(GET parts 2 command)
  separate_arguments(command UNIX_COMMAND "${command}")
  run(${name} ${command})
  expect_failure(${name} "is the input .* \\(${option}\\)")
endforeach()
foreach(kept s.en s.de)
  file(READ ${WORK_DIR}/${kept} text)
  if(NOT text MATCHES "^(A dog runs|Ein Hund rennt)\\.\n$")
    message(FATAL_ERROR "an output refused as an input still changed ${kept} to '${text}'")
  endif()
endforeach()
file(SHA256 ${WORK_DIR}/kept.heed kept_after)
file(READ ${WORK_DIR}/corpus.model corpus_text)
if(NOT kept_before STREQUAL kept_after OR NOT corpus_text STREQUAL "A dog runs.\nTwo dogs run.\n")
  message(FATAL_ERROR "an output refused as an input still changed the model or the corpus")
endif()

# 10. A '#' in a path survives the config file and --resume (CLI11 cut values at '#'); a line
#     break in one is refused before it is written into the model.
file(MAKE_DIRECTORY "${WORK_DIR}/data#1")
file(COPY_FILE ${DATA_DIR}/multi30k-200/train.en "${WORK_DIR}/data#1/train.en")
file(COPY_FILE ${DATA_DIR}/multi30k-200/train.de "${WORK_DIR}/data#1/train.de")
file(WRITE ${WORK_DIR}/hash.toml "# a run with '#' in its paths\ntrain-src = \"${WORK_DIR}/data#1/train.en\"  # the source\ntrain-tgt = '${WORK_DIR}/data#1/train.de'\n")
run(hash_train ${HEED} --threads 1 train --config ${WORK_DIR}/hash.toml --init ${model} -o "${WORK_DIR}/run#1" --max-updates 1 --batch-tokens 256)
run(hash_resume ${HEED} --threads 1 train --resume "${WORK_DIR}/run#1" --max-updates 2)
if(NOT hash_train_rc EQUAL 0 OR NOT hash_resume_rc EQUAL 0 OR NOT hash_resume_err MATCHES "resuming from")
  message(FATAL_ERROR "training with '#' in its paths: exit ${hash_train_rc}, resume exit ${hash_resume_rc}\n${hash_train_err}\n${hash_resume_err}")
endif()
run(newline ${HEED} --threads 1 train --init ${model} --train-src "${WORK_DIR}/a\nb" --train-tgt x -o ${WORK_DIR}/nl)
expect_failure(newline "holds a line break")

# 15. Messages that say what is wrong: a byte-order mark in a gold file is no link error; an
#     unknown metric is refused before any score is printed; an unknown command is named.
execute_process(COMMAND printf "\\357\\273\\2770-0 1-1\\n" OUTPUT_FILE ${WORK_DIR}/bom.gold)
execute_process(COMMAND printf "0-0 1-1\\n" OUTPUT_FILE ${WORK_DIR}/links.txt)
run(bom ${HEED} score -m aer --gold ${WORK_DIR}/bom.gold -i ${WORK_DIR}/links.txt)
if(NOT bom_rc EQUAL 0 OR NOT bom_out MATCHES "^AER = 0.00")
  message(FATAL_ERROR "a gold file with a byte-order mark: exit ${bom_rc}\n${bom_out}${bom_err}")
endif()
run(metric ${HEED} score -m bleu,foo -r ${WORK_DIR}/s.de -i ${WORK_DIR}/s.de)
expect_failure(metric "unknown metric 'foo'")
if(NOT metric_out STREQUAL "")
  message(FATAL_ERROR "score -m bleu,foo printed a score before refusing foo: ${metric_out}")
endif()
run(bogus ${HEED} bogus)
expect_failure(bogus "'bogus' is not a heed command; the commands are vocab, train")
run(too_long ${HEED} --threads 1 train --init ${model} --train-src ${WORK_DIR}/s.en --train-tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/too-long --max-length 1)
expect_failure(too_long "every pair of .* has a side longer than 1 pieces")

# A write that fails says why.
run(missing_dir ${HEED} translate -m ${model} -i ${WORK_DIR}/s.en -o ${WORK_DIR}/no-such-dir/out.txt)
expect_failure(missing_dir "cannot write .*no-such-dir/out.txt: No such file or directory")
if(EXISTS /dev/full)
  run(full_out ${HEED} align -m ${model} --src ${WORK_DIR}/s.en --tgt ${WORK_DIR}/s.de -o /dev/full)
  expect_failure(full_out "cannot write the alignments to /dev/full: No space left on device")
endif()

# 14. SentencePiece's internals stay hidden: a vocabulary too small, a length it refuses, a
#     .vocab listing given as the model.
run(small_vocab ${HEED} vocab -i ${DATA_DIR}/multi30k-200/train.en -o ${WORK_DIR}/v --size 20)
expect_failure(small_vocab "--size 20 is too small: the text has [0-9]+ characters")
run(short_lines ${HEED} vocab -i ${DATA_DIR}/multi30k-200/train.en -o ${WORK_DIR}/v --max-sentence-length 1)
expect_failure(short_lines "--max-sentence-length: '1' must be a number at least 10 and at most 1073741824")
run(listing ${HEED} vocab -i ${DATA_DIR}/multi30k-200/train.en -o ${WORK_DIR}/v --size 300)
run(listing ${HEED} train --vocab ${WORK_DIR}/v.vocab --train-src ${WORK_DIR}/s.en --train-tgt ${WORK_DIR}/s.de -o ${WORK_DIR}/listing)
expect_failure(listing "--vocab .*v.vocab is not a valid SentencePiece model.*give here")
foreach(err small_vocab_err short_lines_err listing_err)
  if(${err} MATCHES "required_chars_|ParseFromArray|trainer_spec")
    message(FATAL_ERROR "SentencePiece's internals in a message: ${${err}}")
  endif()
endforeach()

# 4. Model paths that would never end or block forever are refused at once.
if(EXISTS /dev/zero)
  run(zero ${HEED} info /dev/zero)
  expect_failure(zero "/dev/zero: it is a character device")
endif()
run(fifo_model ${HEED} info ${WORK_DIR}/fifo)
expect_failure(fifo_model "it is a FIFO, not a file")
run(directory_input ${HEED} vocab -i ${WORK_DIR} -o ${WORK_DIR}/v)
expect_failure(directory_input "it is a directory")

# 7. Numbers are finite and in range, and the messages say the range plainly.
foreach(bad "--normalize;nan" "--max-length-factor;inf" "--max-length-factor;1e30" "--n-best;0" "--batch-tokens;-1" "--beam;0")
  run(numeric ${HEED} translate -m ${model} -i ${WORK_DIR}/text.txt ${bad})
  list(GET bad 0 option)
  expect_failure(numeric "${option}.*must be a number")
  if(numeric_err MATCHES "[0-9]{30}")
    message(FATAL_ERROR "heed translate ${bad}: the message prints a huge number: ${numeric_err}")
  endif()
endforeach()

foreach(bad "--memory-limit;nan;info;${model}" "--threads;2000;info;${model}" "bench;ops;--threads-list;100000"
            "train;--seed;-1" "train;--seed;18446744073709551616" "train;--seed;12345678901234567890123")
  run(numeric ${HEED} ${bad})
  expect_failure(numeric "must be a (whole )?number")
endforeach()

# 9. Invisible lines are blank; control characters are removed with a warning naming the line.
#    Lines: NBSP; U+3000; a zero-width space; U+2028; a byte-order mark; a NUL; then a sentence
#    with a NUL inside it.
execute_process(COMMAND printf "\\302\\240\\n\\343\\200\\200\\n\\342\\200\\213\\n\\342\\200\\250\\n\\357\\273\\277\\nA dog runs.\\n"
                OUTPUT_FILE ${WORK_DIR}/invisible.txt)
run(invisible ${HEED} translate -m ${model} -i ${WORK_DIR}/invisible.txt)
if(NOT invisible_rc EQUAL 0 OR NOT invisible_out MATCHES "^\n\n\n\n\n[^\n]+\n$" OR NOT invisible_err MATCHES "5 empty")
  message(FATAL_ERROR "heed translate of invisible lines: exit ${invisible_rc}\nstdout '${invisible_out}'\n${invisible_err}")
endif()
execute_process(COMMAND printf "A dog\\000 runs.\\n\\000\\n" OUTPUT_FILE ${WORK_DIR}/nul.txt)
run(nul ${HEED} translate -m ${model} -i ${WORK_DIR}/nul.txt)
if(NOT nul_rc EQUAL 0 OR NOT nul_err MATCHES "line 1: removed 1 control character" OR NOT nul_err MATCHES "line 2: removed 1"
   OR NOT nul_out MATCHES "^[^\n]+\n\n$")
  message(FATAL_ERROR "heed translate of lines with NUL: exit ${nul_rc}\nstdout '${nul_out}'\n${nul_err}")
endif()

# 3. A long line is split where the model can translate it, reported in the summary, one line out.
file(WRITE ${WORK_DIR}/long.txt "A dog runs. A cat sleeps on the red sofa. Two men play football in the park.\nA dog.\n")
run(long ${HEED} translate -m ${model} -i ${WORK_DIR}/long.txt --max-input-length 6)
if(NOT long_rc EQUAL 0 OR NOT long_out MATCHES "^[^\n]+\n[^\n]*\n$" OR NOT long_err MATCHES "1 long lines split into parts")
  message(FATAL_ERROR "heed translate of a long line: exit ${long_rc}\nstdout '${long_out}'\n${long_err}")
endif()

# 6. A line of megabytes takes memory in proportion to what is kept, not to the line: 20 MB
# without a sentence end, truncated, or too long to align, in well under the 1.3 GB and more it
# took when SentencePiece was given the whole line at once (twice that under ASan, whose shadow
# memory and quarantine raise every figure). Peak memory is the summary's.
string(REPEAT "a dog runs in the park " 900000 huge_line)
file(WRITE ${WORK_DIR}/huge.txt "${huge_line}\nA dog.\n")
set(huge_line "")
function(expect_peak_below name megabytes)
  if(SANITIZED)
    math(EXPR megabytes "${megabytes} * 3")
  endif()
  if(NOT ${name}_err MATCHES "peak memory ([0-9]+) MB")
    message(FATAL_ERROR "${name}: no peak memory in the summary\n${${name}_err}")
  endif()
  if(CMAKE_MATCH_1 GREATER ${megabytes})
    message(FATAL_ERROR "${name}: peak memory ${CMAKE_MATCH_1} MB, more than ${megabytes} MB for a 20 MB line")
  endif()
  message(STATUS "${name}: peak memory ${CMAKE_MATCH_1} MB for a 20 MB line")
endfunction()
run(huge_truncate ${HEED} --threads 1 translate -m ${model} -i ${WORK_DIR}/huge.txt --long-lines truncate)
if(NOT huge_truncate_rc EQUAL 0 OR NOT huge_truncate_out MATCHES "^[^\n]+\n[^\n]+\n$")
  message(FATAL_ERROR "translate --long-lines truncate of a 20 MB line: exit ${huge_truncate_rc}\n${huge_truncate_err}")
endif()
expect_peak_below(huge_truncate 400)
run(huge_align ${HEED} --threads 1 align -m ${model} --src ${WORK_DIR}/huge.txt --tgt ${WORK_DIR}/huge.txt)
if(NOT huge_align_rc EQUAL 0 OR NOT huge_align_err MATCHES "line 1: longer than the model's")
  message(FATAL_ERROR "align of a 20 MB line: exit ${huge_align_rc}\n${huge_align_err}")
endif()
expect_peak_below(huge_align 400)
file(REMOVE ${WORK_DIR}/huge.txt)

# 12. One rule for invalid UTF-8 everywhere: file (or standard input), line and byte.
file(WRITE ${WORK_DIR}/ref.txt "a b\nc d\n")
execute_process(COMMAND printf "a b\\nc \\377\\n" OUTPUT_FILE ${WORK_DIR}/bad-utf8.txt)
execute_process(COMMAND ${HEED} score -r ${WORK_DIR}/ref.txt INPUT_FILE ${WORK_DIR}/bad-utf8.txt
                OUTPUT_VARIABLE score_stdin_out ERROR_VARIABLE score_stdin_err RESULT_VARIABLE score_stdin_rc)
expect_failure(score_stdin "standard input:2: invalid UTF-8 at byte 3")
run(score_file ${HEED} score -r ${WORK_DIR}/ref.txt -i ${WORK_DIR}/bad-utf8.txt)
expect_failure(score_file "bad-utf8.txt:2: invalid UTF-8 at byte 3")
run(vocab_utf8 ${HEED} vocab -i ${WORK_DIR}/bad-utf8.txt -o ${WORK_DIR}/v --size 10)
expect_failure(vocab_utf8 "bad-utf8.txt:2: invalid UTF-8 at byte 3")
file(WRITE ${WORK_DIR}/empty.txt "\n\n")
run(vocab_empty ${HEED} vocab -i ${WORK_DIR}/empty.txt -o ${WORK_DIR}/v --size 10)
expect_failure(vocab_empty "empty.txt hold\\(s\\) no text")
if(vocab_empty_err MATCHES "\\.cc\\(" OR vocab_utf8_err MATCHES "\\.cc\\(")
  message(FATAL_ERROR "heed vocab leaks SentencePiece's source locations:\n${vocab_empty_err}${vocab_utf8_err}")
endif()
