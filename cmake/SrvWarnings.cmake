# srv_warnings(target): the warning set of DESIGN.md, as errors with SRV_WERROR.
function(srv_warnings tgt)
  if(MSVC)
    target_compile_options(${tgt} PRIVATE /W4 /we4013 $<$<BOOL:${SRV_WERROR}>:/WX>)
  else()
    target_compile_options(${tgt} PRIVATE
      -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
      -Wpointer-arith -Wwrite-strings -Wundef -Wformat=2 -Wvla
      -fno-common
      $<$<BOOL:${SRV_WERROR}>:-Werror>)
  endif()
endfunction()
